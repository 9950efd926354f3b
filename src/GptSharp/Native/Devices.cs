using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Native;

/// <summary>Turns a user's device name into a TorchSharp device, with a clear error when it is not usable here.</summary>
public static class Devices
{
    /// <summary>"cpu", "cuda", "cuda:N", or "auto" (CUDA when available, else CPU).</summary>
    public static Device Parse(string? name)
    {
        string n = (name ?? "auto").Trim().ToLowerInvariant();
        if (n is "auto") return cuda.is_available() ? CUDA : CPU;
        if (n is "cpu") return CPU;
        if (n == "cuda" || n.StartsWith("cuda:"))
        {
            if (!cuda.is_available())
                throw new GptSharpException($"device '{name}' asked for, but CUDA is not available (GptSharp ships TorchSharp-cpu; " +
                                            "reference TorchSharp-cuda-linux or TorchSharp-cuda-windows instead to use a GPU)");
            if (n == "cuda") return CUDA;
            if (int.TryParse(n[5..], out int i) && i >= 0 && i < cuda.device_count()) return torch.device(DeviceType.CUDA, i);
            throw new GptSharpException($"device '{name}': this machine has {cuda.device_count()} CUDA device(s)");
        }
        throw new GptSharpException($"unknown device '{name}' (expected cpu, cuda, cuda:N or auto)");
    }
}
