using System.Runtime.InteropServices;
using Google.Protobuf;
using GptSharp.Inference.Onnx.Proto;
using DataType = GptSharp.Inference.Onnx.Proto.TensorProto.Types.DataType;

namespace GptSharp.Inference.Onnx;

/// <summary>
/// Builds one ONNX graph node by node. Large initializers go to an external data file beside the model
/// (TensorProto.data_location = EXTERNAL, as ONNX Runtime GenAI's own exports do), so the model file stays small and
/// the 2 GB protobuf limit never applies; small ones (shapes, scalars) stay inline.
/// </summary>
sealed class OnnxGraphBuilder
{
    /// <summary>Initializers of at least this many bytes go to the data file.</summary>
    const int ExternalThreshold = 1024;
    // ONNX Runtime maps external data; page-aligned offsets let it do so without copying.
    const int Alignment = 4096;

    readonly GraphProto _graph;
    readonly Stream _data;
    readonly string _dataFileName;
    readonly Dictionary<string, string> _constants = [];
    int _next;

    public OnnxGraphBuilder(string name, Stream data, string dataFileName)
    {
        _graph = new GraphProto { Name = name };
        (_data, _dataFileName) = (data, dataFileName);
    }

    public GraphProto Graph => _graph;

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string op, IEnumerable<string> inputs, params AttributeProto[] attributes) =>
        Node(op, inputs, 1, "", attributes)[0];

    /// <summary>Adds a node with <paramref name="outputs"/> outputs (of the operator set <paramref name="domain"/>).</summary>
    public string[] Node(string op, IEnumerable<string> inputs, int outputs, string domain, params AttributeProto[] attributes)
    {
        int id = _next++;
        var node = new NodeProto { OpType = op, Name = $"{op}_{id}" };
        if (domain.Length > 0) node.Domain = domain;
        node.Input.AddRange(inputs);
        var names = Enumerable.Range(0, outputs).Select(o => $"{op}_{id}_out{o}").ToArray();
        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return names;
    }

    /// <summary>Gives the output of the last node the name <paramref name="name"/> (a graph output's name).</summary>
    public string Rename(string from, string name)
    {
        var node = _graph.Node.Last(n => n.Output.Contains(from));
        node.Output[node.Output.IndexOf(from)] = name;
        return name;
    }

    public string Float(string name, ReadOnlySpan<float> values, params long[] dims) =>
        Initializer(name, DataType.Float, MemoryMarshal.AsBytes(values), dims);

    public string Bytes(string name, ReadOnlySpan<byte> values, params long[] dims) =>
        Initializer(name, DataType.Uint8, values, dims);

    /// <summary>An int64 constant (shared by every node that asks for the same values and shape).</summary>
    public string Int64(long[] values, params long[] dims) =>
        Shared($"i64[{string.Join(",", dims)}]:{string.Join(",", values)}", n => Initializer(n, DataType.Int64, MemoryMarshal.AsBytes(values.AsSpan()), dims));

    /// <summary>A 1-D int64 constant.</summary>
    public string Int64s(params long[] values) => Int64(values, values.Length);

    /// <summary>A scalar (0-D) int64 constant.</summary>
    public string Int64Scalar(long value) => Int64([value]);

    /// <summary>A scalar (0-D) float constant.</summary>
    public string FloatScalar(float value) =>
        Shared($"f32:{BitConverter.SingleToInt32Bits(value)}", n => Initializer(n, DataType.Float, MemoryMarshal.AsBytes(new[] { value }.AsSpan()), []));

    string Shared(string key, Func<string, string> create)
    {
        if (!_constants.TryGetValue(key, out var name))
            _constants[key] = name = create($"const_{_constants.Count}");
        return name;
    }

    string Initializer(string name, DataType type, ReadOnlySpan<byte> bytes, long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type };
        tensor.Dims.AddRange(dims);
        if (bytes.Length < ExternalThreshold) tensor.RawData = ByteString.CopyFrom(bytes);
        else
        {
            long pad = (Alignment - _data.Position % Alignment) % Alignment;
            for (long i = 0; i < pad; i++) _data.WriteByte(0);
            long offset = _data.Position;
            _data.Write(bytes);
            tensor.DataLocation = TensorProto.Types.DataLocation.External;
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = _dataFileName });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>A graph input; a dimension is a fixed size (long) or a named symbolic one (string).</summary>
    public string Input(string name, DataType type, params object[] dims)
    {
        _graph.Input.Add(ValueInfo(name, type, dims));
        return name;
    }

    public void Output(string name, DataType type, params object[] dims) => _graph.Output.Add(ValueInfo(name, type, dims));

    static ValueInfoProto ValueInfo(string name, DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d switch
            {
                long n => new TensorShapeProto.Types.Dimension { DimValue = n },
                int n => new TensorShapeProto.Types.Dimension { DimValue = n },
                string s => new TensorShapeProto.Types.Dimension { DimParam = s },
                _ => throw new ArgumentException($"a dimension is a size or a name, not {d}"),
            });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    public static AttributeProto Attribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Attribute(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Attribute(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Attribute(string name, long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }
}
