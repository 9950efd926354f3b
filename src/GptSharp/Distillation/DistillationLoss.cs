using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GptSharp.Distillation;

/// <summary>
/// The student's loss against its teacher on the positions that count (targets other than -100):
/// <c>alpha_ce · T² · D(teacher, student)</c> on distributions softened by temperature T (Hinton et al. 2015, "Distilling
/// the Knowledge in a Neural Network": T² keeps the soft gradients' scale as T changes), plus <c>alpha_clm ·</c> the
/// next-token cross-entropy, plus <c>alpha_cos ·</c> (1 − cosine) between the last hidden states (Sanh et al. 2019,
/// "DistilBERT", whose distillation also made DistilGPT2). D is the generalized Jensen–Shannon divergence of
/// Agarwal et al. 2024 ("On-Policy Distillation of Language Models: Learning from Self-Generated Mistakes", GKD) with
/// TRL's convention (<c>GKDTrainer.generalized_jsd_loss</c>, huggingface/trl trl/trainer/gkd_trainer.py): with the
/// mixture M = β·teacher + (1 − β)·student, D = β·KL(teacher ‖ M) + (1 − β)·KL(student ‖ M); β = 0 is the forward
/// KL(teacher ‖ student) and β = 1 the reverse KL(student ‖ teacher), both computed exactly. Divergences are summed
/// over the vocabulary and averaged over the counted positions, as DistilBERT's batchmean over selected positions.
/// </summary>
public static class DistillationLoss
{
    /// <summary>The weights and shape of the loss.</summary>
    public sealed record Weights(double Temperature, double AlphaCe, double AlphaClm, double AlphaCos, double Beta);

    /// <summary>
    /// The divergence D(teacher, student) per position of <paramref name="studentLogits"/> and <paramref name="teacherLogits"/>
    /// ([N, V] each) at <paramref name="temperature"/>: [N]. Not scaled by T².
    /// </summary>
    public static Tensor Divergence(Tensor studentLogits, Tensor teacherLogits, double beta, double temperature)
    {
        using var scope = NewDisposeScope();
        var student = F.log_softmax(studentLogits.to(ScalarType.Float32) / temperature, -1);
        var teacher = F.log_softmax(teacherLogits.to(ScalarType.Float32) / temperature, -1);
        // kl_div(input, target) is KL(target ‖ input), both given as log-probabilities here.
        Tensor perVocab;
        if (beta == 0) perVocab = F.kl_div(student, teacher, reduction: nn.Reduction.None, log_target: true);
        else if (beta == 1) perVocab = F.kl_div(teacher, student, reduction: nn.Reduction.None, log_target: true);
        else
        {
            var mixture = logsumexp(stack([student + Math.Log(1 - beta), teacher + Math.Log(beta)]), 0);
            perVocab = beta * F.kl_div(mixture, teacher, reduction: nn.Reduction.None, log_target: true)
                       + (1 - beta) * F.kl_div(mixture, student, reduction: nn.Reduction.None, log_target: true);
        }
        return perVocab.sum(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The whole loss for logits [B, T, V] and next-token <paramref name="targets"/> [B, T] (-100: not counted). The
    /// hidden states ([B, T, C], after the final layer norm) are needed when alpha_cos &gt; 0. <paramref name="withCrossEntropy"/>
    /// false leaves out the alpha_clm term (on-policy batches, whose targets are the student's own samples).
    /// </summary>
    public static Tensor Compute(Tensor studentLogits, Tensor teacherLogits, Tensor targets, Weights w,
        Tensor? studentHidden = null, Tensor? teacherHidden = null, bool withCrossEntropy = true)
    {
        using var scope = NewDisposeScope();
        long vocab = studentLogits.shape[^1];
        if (teacherLogits.shape[^1] != vocab)
            throw new GptSharpException($"the teacher scores {teacherLogits.shape[^1]} tokens and the student {vocab}: they must share the vocabulary");
        var counted = targets.reshape(-1).ne(-100).nonzero().squeeze(1);
        long n = counted.shape[0];
        if (n == 0) return (studentLogits.sum() * 0).MoveToOuterDisposeScope(); // nothing counts: no gradient, but a loss to step on

        var loss = zeros(1, ScalarType.Float32, studentLogits.device).squeeze();
        if (w.AlphaCe > 0)
        {
            var s = studentLogits.reshape(-1, vocab).index_select(0, counted);
            var t = teacherLogits.reshape(-1, vocab).index_select(0, counted);
            loss = loss + w.AlphaCe * w.Temperature * w.Temperature * Divergence(s, t, w.Beta, w.Temperature).mean();
        }
        if (w.AlphaClm > 0 && withCrossEntropy)
            loss = loss + w.AlphaClm * Models.Gpt.Loss(studentLogits, targets);
        if (w.AlphaCos > 0)
        {
            if (studentHidden is null || teacherHidden is null) throw new ArgumentException("alpha_cos > 0 needs both models' hidden states");
            long width = studentHidden.shape[^1];
            var s = studentHidden.reshape(-1, width).index_select(0, counted).to(ScalarType.Float32);
            var t = teacherHidden.reshape(-1, width).index_select(0, counted).to(ScalarType.Float32);
            loss = loss + w.AlphaCos * (1 - F.cosine_similarity(s, t, 1)).mean();
        }
        return loss.MoveToOuterDisposeScope();
    }
}
