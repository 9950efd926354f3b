namespace GptSharp.Distillation;

/// <summary>Which teacher layers a shallower student starts from.</summary>
public static class LayerSelection
{
    /// <summary>
    /// <paramref name="studentLayers"/> of <paramref name="teacherLayers"/> layers, evenly spread and keeping the first and
    /// the last: layer i is round(i · (L − 1) / (N − 1)), halves rounded up. 12 → 6 gives DistilGPT2's [0, 2, 4, 7, 9, 11]
    /// (Sanh et al. 2019 take one layer in two, from both ends); one layer is the first.
    /// </summary>
    public static int[] Spread(int teacherLayers, int studentLayers)
    {
        if (studentLayers < 1) throw new GptSharpException($"student_layers must be at least 1 (got {studentLayers})");
        if (studentLayers > teacherLayers)
            throw new GptSharpException($"student_layers ({studentLayers}) exceeds the teacher's n_layer ({teacherLayers}): " +
                                        "a student takes some of its teacher's layers; use student_config for a deeper model");
        if (studentLayers == 1) return [0];
        // Consecutive values are at least 1 apart (N ≤ L), so rounding keeps them strictly increasing.
        return [.. Enumerable.Range(0, studentLayers)
            .Select(i => (int)Math.Round((double)i * (teacherLayers - 1) / (studentLayers - 1), MidpointRounding.AwayFromZero))];
    }

    /// <summary>Checks explicit indices against the teacher's depth: in range and strictly increasing.</summary>
    public static int[] Check(IReadOnlyList<int> indices, int teacherLayers)
    {
        string given = $"[{string.Join(", ", indices)}]";
        if (indices.Count == 0) throw new GptSharpException("student_layer_indices must name at least one teacher layer");
        foreach (int i in indices)
            if (i < 0 || i >= teacherLayers)
                throw new GptSharpException($"student_layer_indices {given}: layer {i} is out of range; the teacher has {teacherLayers} layers (0 to {teacherLayers - 1})");
        for (int i = 1; i < indices.Count; i++)
            if (indices[i] <= indices[i - 1])
                throw new GptSharpException($"student_layer_indices {given} must be strictly increasing (the student keeps the teacher's order)");
        return [.. indices];
    }
}
