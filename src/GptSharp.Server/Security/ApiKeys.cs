using System.Security.Cryptography;
using System.Text;

namespace GptSharp.Server.Security;

/// <summary>
/// The keys a request may present. Keys are kept as SHA-256 digests and compared in constant time against every key
/// (no early exit, and equal-length digests), so response timing tells nothing about a key's characters or length.
/// </summary>
public sealed class ApiKeys(IEnumerable<string> keys)
{
    readonly byte[][] _digests = keys.Select(Digest).ToArray();

    public bool Required => _digests.Length > 0;

    /// <summary>The index of the matching key (a rate-limit partition that does not hold the key itself), or null.</summary>
    public int? Match(string candidate)
    {
        byte[] digest = Digest(candidate);
        int found = -1;
        for (int i = 0; i < _digests.Length; i++)
            if (CryptographicOperations.FixedTimeEquals(digest, _digests[i]) && found < 0) found = i;
        return found >= 0 ? found : null;
    }

    static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
