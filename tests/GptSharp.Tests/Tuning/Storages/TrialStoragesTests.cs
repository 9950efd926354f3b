using GptSharp.Tuning.Storages;
using Npgsql;

namespace GptSharp.Tests.Tuning.Storages;

public class TrialStoragesTests
{
    [Theory]
    [InlineData("memory")]
    [InlineData(" InMemory ")]
    public void MemoryUrlsOpenAnInMemoryStorage(string url)
    {
        using var s = TrialStorages.Open(url);
        Assert.IsType<InMemoryStorage>(s);
    }

    [Fact]
    public void SqliteUrlsFollowSqlAlchemy()
    {
        Assert.Equal("study.db", TrialStorages.SqlitePath("u", "/study.db"));
        Assert.Equal("runs/study.db", TrialStorages.SqlitePath("u", "/runs/study.db"));
        Assert.Equal("/abs/study.db", TrialStorages.SqlitePath("u", "//abs/study.db"));
        using var dir = new Fixture.TempDir();
        using var s = TrialStorages.Open("sqlite:///" + dir["x/study.db"]); // an absolute path: four slashes
        Assert.Equal(dir["x/study.db"], Assert.IsType<SqliteStorage>(s).Path);
        Assert.True(File.Exists(dir["x/study.db"]));
    }

    [Fact]
    public void PostgresUrlsBecomeConnectionStrings()
    {
        var b = new NpgsqlConnectionStringBuilder(TrialStorages.PostgresConnectionString("postgresql://ann:p%40ss@db.example:6543/studies?sslmode=require"));
        Assert.Equal(("ann", "p@ss", "db.example", 6543, "studies", SslMode.Require), (b.Username, b.Password, b.Host, b.Port, b.Database, b.SslMode));
        b = new NpgsqlConnectionStringBuilder(TrialStorages.PostgresConnectionString("postgres://bob@[::1]/tune"));
        Assert.Equal(("bob", null, "::1", 5432, "tune"), (b.Username, b.Password, b.Host, b.Port, b.Database));
        b = new NpgsqlConnectionStringBuilder(TrialStorages.PostgresConnectionString("postgresql://h/d"));
        Assert.Null(b.Username);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("study.db", "no scheme")]
    [InlineData("mysql://u@h/db", "unknown scheme \"mysql\"")]
    [InlineData("sqlite://host/study.db", "three slashes")]
    [InlineData("sqlite:///", "names no database file")]
    [InlineData("sqlite:///study.db?mode=ro", "no options")]
    [InlineData("postgresql://user@host:5432", "names no database")]
    [InlineData("postgresql://user@host:5432/", "names no database")]
    [InlineData("postgresql://user@host:99999/db", "not a valid PostgreSQL URL")]
    [InlineData("postgresql://user@host/db?frobnicate=1", "\"frobnicate=1\" is not understood")]
    public void BadUrlsAreClearErrors(string url, string expected)
    {
        var e = Assert.Throws<GptSharpException>(() => TrialStorages.Open(url));
        Assert.Contains(expected, e.Message);
    }
}
