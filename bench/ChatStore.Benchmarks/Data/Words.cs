using System.Text;

namespace ChatStore.Benchmarks.Data;

/// <summary>
/// A vocabulary of pronounceable pseudo-words (consonant–vowel syllables without e, s, y or g, so
/// that the English stemmer keeps each one as its own lexeme and none is a stop word) and a Zipf
/// distribution over it: word rank r has probability proportional to 1 / r^s.
/// </summary>
public sealed class Words
{
    const string Consonants = "bdfklmnprtvz";
    const string Vowels = "aiou";

    readonly string[] _words;
    readonly double[] _cumulative;

    public Words(int size, double exponent = 1.05)
    {
        _words = new string[size];
        for (var i = 0; i < size; i++)
            _words[i] = Make(i);
        _cumulative = new double[size];
        var sum = 0.0;
        for (var i = 0; i < size; i++)
        {
            sum += 1.0 / Math.Pow(i + 1, exponent);
            _cumulative[i] = sum;
        }
        for (var i = 0; i < size; i++)
            _cumulative[i] /= sum;
    }

    public int Count => _words.Length;

    /// <summary>The word of a rank (0 = most frequent).</summary>
    public string this[int rank] => _words[rank];

    /// <summary>Probability that one drawn word has this rank.</summary>
    public double Probability(int rank) => rank == 0 ? _cumulative[0] : _cumulative[rank] - _cumulative[rank - 1];

    /// <summary>A Zipf-distributed rank.</summary>
    public int Sample(ref Rng rng)
    {
        var u = rng.NextDouble();
        var i = Array.BinarySearch(_cumulative, u);
        return Math.Min(i < 0 ? ~i : i, _words.Length - 1);
    }

    /// <summary>Appends <paramref name="count"/> Zipf-distributed words, space separated.</summary>
    public void AppendText(StringBuilder sb, ref Rng rng, int count, HashSet<int>? seen = null)
    {
        for (var i = 0; i < count; i++)
        {
            if (sb.Length > 0)
                sb.Append(' ');
            var rank = Sample(ref rng);
            seen?.Add(rank);
            sb.Append(_words[rank]);
        }
    }

    // Two syllables for the first 48², three after: short words are the frequent ones, as in language.
    static string Make(int index)
    {
        var syllables = Consonants.Length * Vowels.Length;
        Span<char> chars = stackalloc char[8];
        var n = index < syllables * syllables ? 2 : 3;
        var v = index < syllables * syllables ? index : index - syllables * syllables;
        for (var i = 0; i < n; i++)
        {
            var s = v % syllables;
            v /= syllables;
            chars[2 * i] = Consonants[s / Vowels.Length];
            chars[2 * i + 1] = Vowels[s % Vowels.Length];
        }
        return new string(chars[..(2 * n)]);
    }
}
