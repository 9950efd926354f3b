using GptSharp.Models;
using static TorchSharp.torch;

namespace GptSharp.Distillation;

/// <summary>
/// A student made from its teacher, as DistilBERT/DistilGPT2 (Sanh et al. 2019): the teacher's shape with fewer layers,
/// each block copied from the chosen teacher layer, and the token and position embeddings and final layer norm copied.
/// The copies are exact, so a student with every layer is its teacher.
/// </summary>
public static class StudentInitialization
{
    /// <summary>
    /// A new student of <paramref name="layers"/>.Count blocks: block i is a copy of the teacher's block layers[i].
    /// <paramref name="dropout"/> is the student's, when not the teacher's.
    /// </summary>
    public static Gpt FromTeacherLayers(Gpt teacher, IReadOnlyList<int> layers, long seed = 1337, Device? device = null, double? dropout = null)
    {
        LayerSelection.Check(layers, teacher.Config.NLayer);
        var student = Gpt.Create(teacher.Config with { NLayer = layers.Count, Dropout = dropout ?? teacher.Config.Dropout }, seed, device);
        try
        {
            var from = teacher.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            using var _ = no_grad();
            foreach (var (name, p) in student.named_parameters())
            {
                string source = TeacherName(name, layers);
                if (!from.TryGetValue(source, out var t) || !t.shape.SequenceEqual(p.shape) || t.dtype != p.dtype)
                    throw new GptSharpException($"cannot copy the teacher's {source} into the student's {name}: the teacher must be a float32 model of the same widths");
                p.copy_(t);
            }
            return student;
        }
        catch
        {
            student.Dispose();
            throw;
        }
    }

    /// <summary>The teacher parameter a student parameter copies: h.i.… comes from h.layers[i].…; the rest by name.</summary>
    static string TeacherName(string studentName, IReadOnlyList<int> layers)
    {
        if (!studentName.StartsWith("h.", StringComparison.Ordinal)) return studentName;
        int dot = studentName.IndexOf('.', 2);
        int block = int.Parse(studentName[2..dot], System.Globalization.CultureInfo.InvariantCulture);
        return $"h.{layers[block]}{studentName[dot..]}";
    }
}
