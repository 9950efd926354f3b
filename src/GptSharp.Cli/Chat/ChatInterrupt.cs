namespace GptSharp.Cli.Chat;

/// <summary>What <see cref="ChatRepl.Interrupt"/> (Ctrl+C) did.</summary>
public enum ChatInterrupt
{
    /// <summary>A reply was being generated: it stops, and the REPL goes back to the prompt.</summary>
    StoppedReply,

    /// <summary>No reply was being generated (the REPL was at the prompt): <see cref="ChatRepl.RunAsync"/> returns.</summary>
    Leaving,
}
