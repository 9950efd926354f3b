using Microsoft.Playwright;

namespace GptSharp.Tests.Server;

/// <summary>
/// Headless Debian chromium driven by Playwright (a class fixture): Playwright cannot download its own browsers here,
/// so it launches <c>/usr/bin/chromium</c>. When chromium is missing, <see cref="Browser"/> is null and the tests return
/// early with <see cref="SkipReason"/>, unless CI is "true": there the fixture fails (.ci/run installs chromium).
/// </summary>
public sealed class ChromiumBrowser : IAsyncLifetime
{
    public const string Executable = "/usr/bin/chromium";
    IPlaywright? _playwright;

    public IBrowser? Browser { get; private set; }
    public string? SkipReason { get; private set; }

    public async Task InitializeAsync()
    {
        if (!File.Exists(Executable))
        {
            SkipReason = $"chromium is not installed ({Executable}; Debian package chromium): the web page tests did not run";
            if (Environment.GetEnvironmentVariable("CI") == "true")
                throw new InvalidOperationException($"{SkipReason}; with CI=true they must run (.ci/run installs it)");
            return;
        }
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = Executable, Args = ["--no-sandbox"], Headless = true });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
