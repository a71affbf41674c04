namespace ChatStore.Benchmarks.Data;

/// <summary>
/// A small, fast, seedable generator (SplitMix64): the dataset must come out the same on every
/// machine and .NET version, so it does not depend on <see cref="Random"/>'s algorithm.
/// </summary>
public struct Rng(ulong seed)
{
    ulong _state = seed;

    /// <summary>A generator for one item of a stream, independent of the order items are made in.</summary>
    public static Rng For(int seed, string stream, long index)
    {
        var h = 1469598103934665603UL;
        foreach (var c in stream)
            h = (h ^ c) * 1099511628211UL;
        var r = new Rng(h ^ (ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)index * 0xD1B54A32D192ED03UL);
        r.NextULong();
        return r;
    }

    public ulong NextULong()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [min, max).</summary>
    public int Next(int min, int max) => min + (int)((NextULong() >> 33) % (ulong)(max - min));

    /// <summary>Standard normal (Box–Muller).</summary>
    public double NextGaussian()
    {
        var u1 = 1.0 - NextDouble();
        var u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A UUIDv7-shaped id for a time, with random bits from this generator.</summary>
    public Guid NextId(DateTimeOffset time)
    {
        Span<byte> b = stackalloc byte[16];
        var ms = time.ToUnixTimeMilliseconds();
        for (var i = 0; i < 6; i++)
            b[i] = (byte)(ms >> (40 - 8 * i));
        var r1 = NextULong();
        var r2 = NextULong();
        b[6] = (byte)(0x70 | (int)(r1 & 0x0F));
        b[7] = (byte)(r1 >> 8);
        b[8] = (byte)(0x80 | (int)((r1 >> 16) & 0x3F));
        for (var i = 9; i < 16; i++)
            b[i] = (byte)(r2 >> (8 * (i - 9)));
        return new Guid(b, bigEndian: true);
    }
}
