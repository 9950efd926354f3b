using GptSharp.Distillation;
using GptSharp.Models;
using GptSharp.Tests.Training;
using static TorchSharp.torch;

namespace GptSharp.Tests.Distillation;

[Collection(nameof(GlobalTorchRng))]
public class StudentInitializationTests
{
    static byte[] Bytes(Tensor t) => t.contiguous().bytes.ToArray();

    [Fact]
    public void TheChosenLayersEmbeddingsAndFinalNormAreCopiedByteForByte()
    {
        using var teacher = Gpt.Create(new GptConfig { VocabSize = 50, BlockSize = 16, NLayer = 6, NHead = 2, NEmbd = 16 }, seed: 3);
        int[] layers = LayerSelection.Spread(6, 3); // [0, 3, 5]
        Assert.Equal([0, 3, 5], layers);
        using var student = StudentInitialization.FromTeacherLayers(teacher, layers, seed: 9);
        Assert.Equal(3, student.Config.NLayer);

        var t = teacher.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var copied = 0;
        foreach (var (name, p) in student.named_parameters())
        {
            string source = name.StartsWith("h.") ? $"h.{layers[int.Parse(name.Split('.')[1])]}.{string.Join('.', name.Split('.')[2..])}" : name;
            Assert.Equal(Bytes(t[source]), Bytes(p));
            copied++;
        }
        Assert.Equal(4 + 3 * 12, copied); // wte, wpe, ln_f's weight and bias; 12 tensors per block
    }

    [Fact]
    public void AStudentOfEveryLayerIsItsTeacherAndHasZeroKl()
    {
        using var teacher = Gpt.Create(new GptConfig { VocabSize = 40, BlockSize = 16, NLayer = 3, NHead = 2, NEmbd = 16 }, seed: 4);
        using var student = StudentInitialization.FromTeacherLayers(teacher, [0, 1, 2]);
        using var ids = randint(0, 40, [2, 10], generator: new Generator(1), dtype: ScalarType.Int64);
        using var targets = randint(0, 40, [2, 10], generator: new Generator(2), dtype: ScalarType.Int64);
        teacher.eval();
        student.eval();
        using var _ = no_grad();
        using var s = student.Forward(ids);
        using var te = teacher.Forward(ids);
        Assert.Equal(Bytes(te), Bytes(s));
        using var loss = DistillationLoss.Compute(s, te, targets, new DistillationLoss.Weights(2.0, 1, 0, 0, 0));
        var (h1, _) = student.ForwardWithHidden(ids);
        var (h2, _) = teacher.ForwardWithHidden(ids);
        using var withCos = DistillationLoss.Compute(s, te, targets, new DistillationLoss.Weights(2.0, 1, 0, 1, 0), h1, h2);
        Assert.Equal(0, loss.item<float>(), 6);
        Assert.Equal(0, withCos.item<float>(), 5);
    }

    [Fact]
    public void LayersBeyondTheTeacherAreRefused()
    {
        using var teacher = Gpt.Create(new GptConfig { VocabSize = 40, BlockSize = 16, NLayer = 2, NHead = 2, NEmbd = 16 });
        Assert.Contains("layer 2 is out of range", Assert.Throws<GptSharpException>(() => StudentInitialization.FromTeacherLayers(teacher, [0, 2])).Message);
    }
}
