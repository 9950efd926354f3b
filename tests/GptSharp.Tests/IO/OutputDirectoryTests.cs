using System.Diagnostics;
using GptSharp.IO;

namespace GptSharp.Tests.IO;

public class OutputDirectoryTests
{
    [Fact]
    public void ANonEmptyOutputIsRefusedUnlessOverwriteNamingTheFlag()
    {
        using var tmp = new Fixture.TempDir();
        OutputDirectory.Check(tmp["new"], false, "--overwrite", []);
        Directory.CreateDirectory(tmp["empty"]);
        OutputDirectory.Check(tmp["empty"], false, "--overwrite", []);
        File.WriteAllText(tmp["mine.txt"], "x");
        var e = Assert.Throws<GptSharpException>(() => OutputDirectory.Check(tmp.Root, false, "--overwrite", []));
        Assert.Contains("already exists and is not empty; pass --overwrite", e.Message);
        OutputDirectory.Check(tmp.Root, true, "--overwrite", []);
        e = Assert.Throws<GptSharpException>(() => OutputDirectory.Check(tmp["mine.txt"], true, "--overwrite", []));
        Assert.Contains("is a file", e.Message);
    }

    [Fact]
    public void NeverReplacesTheWorkingDirectoryItsAncestorsOrADirectoryHoldingAnInputEvenWithOverwrite()
    {
        foreach (var dir in new[] { ".", Environment.CurrentDirectory, "..", "/" })
        {
            var e = Assert.Throws<GptSharpException>(() => OutputDirectory.Check(dir, true, "--overwrite", []));
            Assert.Contains("working directory", e.Message);
        }

        using var tmp = new Fixture.TempDir();
        Directory.CreateDirectory(tmp["project/model"]);
        File.WriteAllText(tmp["project/model/config.json"], "{}");
        foreach (var dir in new[] { tmp["project"], tmp["project/model"], tmp.Root })
        {
            var e = Assert.Throws<GptSharpException>(() => OutputDirectory.Check(dir, true, "--overwrite", [tmp["project/model"]]));
            Assert.Contains($"holds an input of this command ({tmp["project/model"]})", e.Message);
        }
        // Through a symbolic link too.
        Directory.CreateSymbolicLink(tmp["link"], tmp["project"]);
        Assert.Throws<GptSharpException>(() => OutputDirectory.Check(tmp["link"], true, "--overwrite", [tmp["project/model"]]));
        Assert.Throws<GptSharpException>(() => OutputDirectory.Check(tmp["project"], true, "--overwrite", [Path.Combine(tmp["link"], "model")]));
        // A sibling is fine.
        OutputDirectory.Check(tmp["project/int8"], true, "--overwrite", [tmp["project/model"]]);
    }

    [Fact]
    public void AnUnwritablePlaceIsNamedAsTheUserGaveIt()
    {
        using var tmp = new Fixture.TempDir();
        string readOnly = Path.Combine(Unwritable.Directory(tmp), "gptsharp-out");
        var e = Assert.Throws<GptSharpException>(() => OutputDirectory.Check(readOnly, false, "--overwrite", []));
        Assert.StartsWith($"{readOnly}: cannot write there", e.Message);
        e = Assert.Throws<GptSharpException>(() => OutputDirectory.CheckFile(Path.Combine(readOnly, "report.json")));
        Assert.Contains("cannot write there", e.Message);
        Assert.DoesNotContain(".tmp-", e.Message);

        string underFile = Unwritable.UnderAFile(tmp);
        e = Assert.Throws<GptSharpException>(() => OutputDirectory.CheckFile(Path.Combine(underFile, "x.jsonl")));
        Assert.Contains($"{tmp["a-file"]} is a file, not a directory", e.Message);
        Assert.Equal(["a-file"], Directory.GetFileSystemEntries(tmp.Root).Select(Path.GetFileName)); // the probe left nothing
    }

    [Fact]
    public void StaleTemporariesOfDeadProcessesAreDeletedAndLiveOnesKept()
    {
        using var tmp = new Fixture.TempDir();
        using var dead = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        dead.WaitForExit();
        string deadDir = $"{tmp["data"]}.tmp-{dead.Id}-{Guid.NewGuid():N}", deadOld = $"{tmp["data"]}.old-{dead.Id}-{Guid.NewGuid():N}";
        string deadFile = $"{tmp["report.json"]}.tmp-{dead.Id}-{Guid.NewGuid():N}";
        string live = $"{tmp["data"]}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        string other = $"{tmp["data2"]}.tmp-{dead.Id}-{Guid.NewGuid():N}";
        foreach (var d in new[] { deadDir, deadOld, live, other }) Directory.CreateDirectory(d);
        File.WriteAllText(Path.Combine(deadDir, "train-00000.bin"), "partial");
        File.WriteAllText(deadFile, "partial");

        AtomicFile.DeleteStaleTemporaries(tmp["data"]);
        AtomicFile.DeleteStaleTemporaries(tmp["report.json"]);
        Assert.False(Directory.Exists(deadDir));
        Assert.False(Directory.Exists(deadOld));
        Assert.False(File.Exists(deadFile));
        Assert.True(Directory.Exists(live)); // this process's write in progress
        Assert.True(Directory.Exists(other)); // another output's
    }
}
