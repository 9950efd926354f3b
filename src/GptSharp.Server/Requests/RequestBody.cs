using GptSharp.Server.Errors;
using Microsoft.AspNetCore.Http;

namespace GptSharp.Server.Requests;

/// <summary>Reads a request body up to a size limit (413 beyond it), the same in Kestrel and in an in-process test server.</summary>
public static class RequestBody
{
    public static async Task<JsonFields> ReadJsonAsync(HttpRequest request, long limit, CancellationToken ct)
    {
        if (request.ContentLength > limit) throw TooLarge(limit);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit) throw TooLarge(limit);
            buffer.Write(chunk, 0, read);
        }
        return JsonFields.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }

    static ApiException TooLarge(long limit) =>
        new(413, $"The request body is larger than this server accepts ({limit} bytes)", code: "request_too_large");
}
