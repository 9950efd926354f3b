namespace GptSharp.Data.Shards;

/// <summary>How <see cref="DataPreparer"/> turns text into token shards.</summary>
public sealed record PrepareOptions
{
    /// <summary>Fraction of documents held out for validation, in [0, 0.5].</summary>
    public double ValFraction { get; init; } = 0.05;
    public DocumentBoundary DocumentBoundary { get; init; } = DocumentBoundary.Marker;
    /// <summary>Tokens per shard file before a new one is started.</summary>
    public long ShardTokens { get; init; } = 100_000_000;
    /// <summary>Replace an existing data directory (it is only replaced once the new one is complete).</summary>
    public bool Overwrite { get; init; }
    /// <summary>
    /// Where the tokenizer came from (see <see cref="TokenizerSource"/>): recorded in meta.json so that training can
    /// put the tokenizer files into its checkpoints.
    /// </summary>
    public string? Tokenizer { get; init; }

    public PrepareOptions Validate()
    {
        if (ValFraction is not (>= 0 and <= 0.5) || double.IsNaN(ValFraction))
            throw new GptSharpException($"val_fraction must be in [0, 0.5] (got {ValFraction})");
        if (ShardTokens < 1024) throw new GptSharpException($"shard_tokens must be at least 1024 (got {ShardTokens})");
        return this;
    }
}

