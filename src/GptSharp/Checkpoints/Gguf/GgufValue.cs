namespace GptSharp.Checkpoints.Gguf;

/// <summary>
/// A GGUF metadata value: its <see cref="Type"/> and the value as .NET holds it (<c>uint</c> for UInt32, <c>string</c>,
/// <c>bool</c>, …; an array is a .NET array of its <see cref="ElementType"/>, e.g. <c>string[]</c> or <c>int[]</c>;
/// <see cref="ElementType"/> means nothing for a scalar).
/// </summary>
public sealed record GgufValue(GgufValueType Type, object Value, GgufValueType ElementType = GgufValueType.UInt8)
{
    public static GgufValue Of(string value) => new(GgufValueType.String, value);
    public static GgufValue Of(uint value) => new(GgufValueType.UInt32, value);
    public static GgufValue Of(float value) => new(GgufValueType.Float32, value);
    public static GgufValue Of(bool value) => new(GgufValueType.Bool, value);
    public static GgufValue Of(IEnumerable<string> values) => new(GgufValueType.Array, values.ToArray(), GgufValueType.String);
    public static GgufValue Of(IEnumerable<int> values) => new(GgufValueType.Array, values.ToArray(), GgufValueType.Int32);

    public string AsString() => Value as string ?? throw Wrong("a string");
    public bool AsBool() => Value is bool b ? b : throw Wrong("a bool");
    public float AsFloat32() => Value is float f ? f : throw Wrong("a float32");

    /// <summary>Any integer type that fits a long (GGUF writers differ in which they use for counts and ids).</summary>
    public long AsInteger() => Value switch
    {
        byte v => v, sbyte v => v, ushort v => v, short v => v, uint v => v, int v => v, long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        _ => throw Wrong("an integer"),
    };

    public string[] AsStrings() => Value as string[] ?? throw Wrong("an array of strings");
    public int[] AsInt32s() => Value as int[] ?? throw Wrong("an array of int32");

    InvalidOperationException Wrong(string what) =>
        new($"the GGUF value is {(Type == GgufValueType.Array ? $"an array of {ElementType}" : Type.ToString())}, not {what}");

    public override string ToString() => Value is Array a ? $"[{a.Length} × {ElementType}]" : $"{Value} ({Type})";
}
