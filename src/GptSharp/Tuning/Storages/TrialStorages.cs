using Npgsql;

namespace GptSharp.Tuning.Storages;

/// <summary>Opens a study storage from a URL, in the forms Optuna (SQLAlchemy) users know.</summary>
public static class TrialStorages
{
    const string Forms = "sqlite:///relative/path.db, sqlite:////absolute/path.db, postgresql://user[:password]@host[:port]/database, or memory";

    /// <summary>
    /// Opens <paramref name="url"/>: <c>sqlite:///study.db</c> (relative to the working directory),
    /// <c>sqlite:////abs/study.db</c> (absolute), <c>postgresql://user[:password]@host[:port]/database[?sslmode=require]</c>
    /// (also <c>postgres://</c>; a <c>+driver</c> suffix on the scheme is ignored), or <c>memory</c> / <c>inmemory</c> for
    /// an <see cref="InMemoryStorage"/>. A clear error for anything else.
    /// </summary>
    public static ITrialStorage Open(string url)
    {
        string text = url?.Trim() ?? "";
        if (text.Length == 0) throw new GptSharpException($"storage URL is empty (expected {Forms})");
        if (text.ToLowerInvariant() is "memory" or "inmemory" or "memory://" or "inmemory://") return new InMemoryStorage();
        int colon = text.IndexOf("://", StringComparison.Ordinal);
        if (colon <= 0) throw new GptSharpException($"storage URL \"{url}\" has no scheme (expected {Forms})");
        string scheme = text[..colon].ToLowerInvariant();
        if (scheme.IndexOf('+') is > 0 and var plus) scheme = scheme[..plus]; // SQLAlchemy's dialect+driver
        return scheme switch
        {
            "sqlite" => new SqliteStorage(SqlitePath(text, text[(colon + 3)..])),
            "postgresql" or "postgres" => new PostgresStorage(PostgresConnectionString(text)),
            _ => throw new GptSharpException($"storage URL \"{url}\": unknown scheme \"{text[..colon]}\" (expected {Forms})"),
        };
    }

    /// <summary>The file of a <c>sqlite:///</c> URL: what follows the third slash, so a fourth makes it absolute.</summary>
    internal static string SqlitePath(string url, string rest)
    {
        if (!rest.StartsWith('/'))
            throw new GptSharpException($"storage URL \"{url}\": a SQLite URL has three slashes and no host: sqlite:///relative/path.db or sqlite:////absolute/path.db");
        string path = rest[1..];
        if (path.Length == 0 || path.EndsWith('/'))
            throw new GptSharpException($"storage URL \"{url}\" names no database file (e.g. sqlite:///study.db)");
        if (path.Contains('?'))
            throw new GptSharpException($"storage URL \"{url}\": SQLite URLs take no options after '?'");
        return path;
    }

    /// <summary>The Npgsql connection string of a <c>postgresql://</c> URL.</summary>
    internal static string PostgresConnectionString(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            throw new GptSharpException($"storage URL \"{url}\" is not a valid PostgreSQL URL (expected postgresql://user[:password]@host[:port]/database)");
        string database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length == 0 || database.Contains('/'))
            throw new GptSharpException($"storage URL \"{url}\" names no database (expected postgresql://user@host:port/database)");
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.IdnHost,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = database,
        };
        if (uri.UserInfo.Length > 0)
        {
            string[] parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2) builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=', 2);
            string key = Uri.UnescapeDataString(kv[0]), value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            // libpq's names for the common options; Npgsql's own keywords pass as they are.
            string npgsqlKey = key.ToLowerInvariant() switch
            {
                "sslmode" => "SSL Mode",
                "connect_timeout" => "Timeout",
                "application_name" => "Application Name",
                "options" => "Options",
                _ => key,
            };
            try { builder[npgsqlKey] = value; }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
            {
                throw new GptSharpException($"storage URL \"{url}\": option \"{key}={value}\" is not understood: {e.Message}");
            }
        }
        return builder.ConnectionString;
    }
}
