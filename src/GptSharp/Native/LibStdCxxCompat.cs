using System.Buffers.Binary;
using System.Text;

namespace GptSharp.Native;

/// <summary>
/// TorchSharp 0.107's libLibTorchSharp.so was linked with GCC 13, whose &lt;iostream&gt; emits
/// <c>.globl _ZSt21ios_base_library_initv</c> (GLIBCXX_3.4.32). Debian 12's libstdc++ stops at 3.4.30,
/// so dlopen fails on the version check although nothing ever calls the symbol: there GCC 12's
/// libstdc++ initialises the streams from its own static constructors.
/// The fix edits the ELF file: the symbol's entry in <c>.gnu.version</c> becomes unversioned, the
/// GLIBCXX_3.4.32 requirement is unlinked from <c>.gnu.version_r</c>, and the symbol is made weak. No
/// relocation refers to it (checked before patching), so it never needs a definition. Only machines whose
/// libstdc++ lacks the version are patched, and the file keeps its size and timestamp so MSBuild does
/// not copy the original back over it.
/// </summary>
internal static class LibStdCxxCompat
{
    const string Symbol = "_ZSt21ios_base_library_initv";
    const string Version = "GLIBCXX_3.4.32";

    /// <summary>True when the process's libstdc++ already defines the symbol at that version.</summary>
    public static bool SystemHasVersion()
    {
        nint h = Libc.DlOpen("libstdc++.so.6", Libc.RTLD_LAZY);
        return h != 0 && Libc.DlVSym(h, Symbol, Version) != 0;
    }

    /// <summary>Patches <paramref name="path"/> in place if it needs it; returns what it found, for diagnostics.</summary>
    public static string EnsureLoadable(string path)
    {
        if (SystemHasVersion()) return $"not needed (the system libstdc++ has {Version})";
        byte[] elf = File.ReadAllBytes(path);
        if (!TryPatch(elf)) return "patched (earlier)";

        var original = new FileInfo(path);
        string tmp = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            File.WriteAllBytes(tmp, elf);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, original.UnixFileMode);
            File.SetLastWriteTimeUtc(tmp, original.LastWriteTimeUtc);
            File.Move(tmp, path, overwrite: true); // atomic: a concurrent loader sees the old or the new file
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            File.Delete(tmp);
            throw new GptSharpException(
                $"{path} needs {Version} from libstdc++, which this system lacks, and GptSharp could not patch it ({e.Message}). " +
                "Run GptSharp once with write access to that folder.");
        }
        return "patched (now)";
    }

    /// <summary>Edits the ELF image in memory. Returns false if it does not require the version (already patched).</summary>
    internal static bool TryPatch(byte[] f)
    {
        if (f.Length < 64 || BinaryPrimitives.ReadUInt32BigEndian(f) != 0x7F454C46 || f[4] != 2 || f[5] != 1)
            throw new GptSharpException("not a 64-bit little-endian ELF file");

        long shoff = (long)U64(f, 0x28);
        int shentsize = U16(f, 0x3A), shnum = U16(f, 0x3C);
        Section Sec(int i) => new(f, (int)(shoff + (long)i * shentsize));

        int dynsym = -1, versym = -1, verneed = -1;
        for (int i = 0; i < shnum; i++)
            switch (Sec(i).Type)
            {
                case 11: dynsym = i; break;            // SHT_DYNSYM
                case 0x6fffffff: versym = i; break;     // SHT_GNU_versym
                case 0x6ffffffe: verneed = i; break;    // SHT_GNU_verneed
            }
        if (dynsym < 0 || versym < 0 || verneed < 0) return false;

        var dyn = Sec(dynsym);
        int dynstr = (int)Sec(dyn.Link).Offset;
        string Str(long off) => CString(f, dynstr + (int)off);

        // Find the GLIBCXX_3.4.32 entry and the entry before it in its Verneed's list.
        int vn = (int)Sec(verneed).Offset;
        for (uint n = 0; n < Sec(verneed).Info; n++)
        {
            int cnt = U16(f, vn + 2), aux = vn + (int)U32(f, vn + 8), prev = -1;
            for (int a = 0; a < cnt; a++)
            {
                if (Str(U32(f, aux + 8)) == Version)
                {
                    int index = U16(f, aux + 6);
                    PatchSymbols(f, dyn, Sec(versym).Offset, index, Str, shnum, Sec, dynsym);
                    int next = (int)U32(f, aux + 12);
                    if (cnt == 1) throw new GptSharpException($"{Version} is the only requirement on its library; refusing to patch");
                    if (prev < 0) W32(f, vn + 8, U32(f, vn + 8) + (uint)next);          // unlink the head
                    else W32(f, prev + 12, next == 0 ? 0 : U32(f, prev + 12) + (uint)next); // unlink from the middle/tail
                    W16(f, vn + 2, (ushort)(cnt - 1));
                    return true;
                }
                prev = aux;
                aux += (int)U32(f, aux + 12);
            }
            vn += (int)U32(f, vn + 12);
        }
        return false;
    }

    static void PatchSymbols(byte[] f, Section dyn, long versymOff, int index, Func<long, string> str,
        int shnum, Func<int, Section> sec, int dynsymIndex)
    {
        int count = (int)(dyn.Size / 24);
        var patched = new List<int>();
        for (int s = 0; s < count; s++)
        {
            int vs = (int)versymOff + 2 * s;
            if ((U16(f, vs) & 0x7fff) != index) continue;
            int sym = (int)dyn.Offset + 24 * s;
            string name = str(U32(f, sym));
            if (name != Symbol || U16(f, sym + 6) != 0)
                throw new GptSharpException($"{Version} also covers '{name}'; refusing to patch a symbol we do not understand");
            patched.Add(s);
        }
        // The symbol must not be the target of any relocation: then it is never resolved and needs no definition.
        for (int i = 0; i < shnum; i++)
        {
            var r = sec(i);
            if (r.Type != 4 || r.Link != dynsymIndex) continue; // SHT_RELA against .dynsym
            for (long o = r.Offset; o < r.Offset + r.Size; o += 24)
                if (patched.Contains((int)(U64(f, (int)o + 8) >> 32)))
                    throw new GptSharpException($"a relocation refers to {Symbol}; refusing to patch");
        }
        foreach (int s in patched)
        {
            W16(f, (int)versymOff + 2 * s, 1);                       // VER_NDX_GLOBAL
            int info = (int)dyn.Offset + 24 * s + 4;
            f[info] = (byte)((2 << 4) | (f[info] & 0xf));            // STB_WEAK, same type
        }
    }

    readonly record struct Section(byte[] F, int At)
    {
        public uint Type => U32(F, At + 4);
        public long Offset => (long)U64(F, At + 24);
        public long Size => (long)U64(F, At + 32);
        public int Link => (int)U32(F, At + 40);
        public uint Info => U32(F, At + 44);
    }

    static ushort U16(ReadOnlySpan<byte> f, int at) => BinaryPrimitives.ReadUInt16LittleEndian(f[at..]);
    static uint U32(ReadOnlySpan<byte> f, long at) => BinaryPrimitives.ReadUInt32LittleEndian(f[(int)at..]);
    static ulong U64(ReadOnlySpan<byte> f, int at) => BinaryPrimitives.ReadUInt64LittleEndian(f[at..]);
    static void W16(Span<byte> f, int at, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(f[at..], v);
    static void W32(Span<byte> f, int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(f[at..], v);
    static string CString(ReadOnlySpan<byte> f, int at) => Encoding.ASCII.GetString(f[at..(at + f[at..].IndexOf((byte)0))]);
}
