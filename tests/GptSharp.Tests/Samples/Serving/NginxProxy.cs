using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace GptSharp.Tests.Samples.Serving;

/// <summary>
/// Debian's nginx running a config in a throwaway prefix directory (its pid, logs and temp paths there), in the
/// foreground on a free loopback port, without needing root. Stopped and removed on dispose. <see cref="Missing"/> says
/// why nginx cannot run here; with CI=true its absence is an error instead (.ci/run installs it).
/// </summary>
sealed class NginxProxy : IDisposable
{
    public const string Executable = "/usr/sbin/nginx";
    readonly string _dir;
    readonly Process _process;

    NginxProxy(string dir, Process process, int port) => (_dir, _process, Port) = (dir, process, port);

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Why the nginx tests cannot run here (null when they can); throws under CI=true instead.</summary>
    public static string? Missing()
    {
        if (File.Exists(Executable)) return null;
        string reason = $"nginx is not installed ({Executable}; Debian package nginx): the scale-out test did not run";
        return Environment.GetEnvironmentVariable("CI") == "true"
            ? throw new InvalidOperationException($"{reason}; with CI=true it must run (.ci/run installs it)")
            : reason;
    }

    /// <summary>Starts nginx on <paramref name="config"/> with its <c>listen</c> port replaced by a free one.</summary>
    public static async Task<NginxProxy> StartAsync(string config)
    {
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePort();
            var dir = Directory.CreateTempSubdirectory("gptsharp-nginx-");
            // Readable by nginx's workers, which drop root's privileges when the tests run as root.
            if (!OperatingSystem.IsWindows()) dir.UnixFileMode |= UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
            Directory.CreateDirectory(Path.Combine(dir.FullName, "logs"));
            Directory.CreateDirectory(Path.Combine(dir.FullName, "temp"));
            string path = Path.Combine(dir.FullName, "nginx.conf");
            File.WriteAllText(path, Regex.Replace(config, @"listen\s+127\.0\.0\.1:\d+;", $"listen 127.0.0.1:{port};"));
            var info = new ProcessStartInfo(Executable) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string a in (string[])["-p", dir.FullName + "/", "-c", path, "-e", Path.Combine(dir.FullName, "logs", "error.log"), "-g", "daemon off;"])
                info.ArgumentList.Add(a);
            var process = Process.Start(info)!;
            var proxy = new NginxProxy(dir.FullName, process, port);
            try
            {
                await proxy.WaitListeningAsync();
                return proxy;
            }
            catch (InvalidOperationException) when (attempt < 2) { proxy.Dispose(); } // the port was taken meanwhile
            catch { proxy.Dispose(); throw; }
        }
    }

    async Task WaitListeningAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"nginx exited ({_process.ExitCode}): {await _process.StandardError.ReadToEndAsync()}{ErrorLog()}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) { await Task.Delay(50); }
        }
        throw new TimeoutException($"nginx did not listen on {Port} in 30 s: {ErrorLog()}");
    }

    /// <summary>nginx's error log, for failure messages.</summary>
    public string ErrorLog()
    {
        string log = Path.Combine(_dir, "logs", "error.log");
        return File.Exists(log) ? File.ReadAllText(log) : "";
    }

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true); // the master and its workers
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
