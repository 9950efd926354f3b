using System.Text;
using System.Text.Json;
using GptSharp.Server.Errors;
using GptSharp.Server.Options;
using GptSharp.Tokenization;

namespace GptSharp.Server.Requests;

/// <summary>
/// POST /v1/chat/completions, checked. Messages: system, developer (read as system), user and assistant, content as
/// a string or text parts. Tools and non-text response formats are refused until the models support them.
/// </summary>
public sealed record ChatCompletionRequest(SamplingRequest Sampling, IReadOnlyList<ChatTurn> Messages)
{
    public static ChatCompletionRequest Read(JsonFields f, ServerOptions limits)
    {
        if (f.Get("tools") is { ValueKind: JsonValueKind.Array } tools && tools.GetArrayLength() > 0)
            throw ApiException.Invalid("tools", "tools (function calling) are not supported by this server yet", "unsupported_parameter");
        if (f.Get("functions") is { ValueKind: JsonValueKind.Array } functions && functions.GetArrayLength() > 0)
            throw ApiException.Invalid("functions", "functions (function calling) are not supported by this server yet", "unsupported_parameter");
        if (f.Get("response_format") is { } format)
        {
            string? type = format.ValueKind == JsonValueKind.Object && format.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type != "text")
                throw ApiException.Invalid("response_format", $"response_format type '{type ?? "(missing)"}' is not supported: only \"text\"", "unsupported_parameter");
        }
        var sampling = SamplingRequest.Read(f, limits, chat: true);
        return new ChatCompletionRequest(sampling, ReadMessages(f, limits));
    }

    static ChatTurn[] ReadMessages(JsonFields f, ServerOptions limits)
    {
        if (f.Get("messages") is not { } messages)
            throw ApiException.Invalid("messages", "'messages' is required", "missing_required_parameter");
        if (messages.ValueKind != JsonValueKind.Array) throw JsonFields.Wrong("messages", "an array", messages);
        int count = messages.GetArrayLength();
        if (count == 0) throw ApiException.Invalid("messages", "'messages' must hold at least one message");
        if (count > limits.MaxMessages) throw ApiException.Invalid("messages", $"'messages' may hold at most {limits.MaxMessages} messages (got {count})");
        return messages.EnumerateArray().Select((m, i) => ReadMessage(m, $"messages[{i}]", limits)).ToArray();
    }

    static ChatTurn ReadMessage(JsonElement m, string where, ServerOptions limits)
    {
        if (m.ValueKind != JsonValueKind.Object) throw JsonFields.Wrong(where, "an object", m);
        string? roleName = m.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        TurnRole role = roleName switch
        {
            "system" or "developer" => TurnRole.System,
            "user" => TurnRole.User,
            "assistant" => TurnRole.Assistant,
            null => throw ApiException.Invalid($"{where}.role", $"'{where}.role' is required: system, developer, user or assistant", "missing_required_parameter"),
            _ => throw ApiException.Invalid($"{where}.role", $"'{where}.role' is '{roleName}'; this server takes system, developer, user and assistant messages"),
        };
        if (m.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() > 0)
            throw ApiException.Invalid($"{where}.tool_calls", "tool calls are not supported by this server yet", "unsupported_parameter");
        string text = Content(m, where, role);
        if (text.Length > limits.MaxMessageChars)
            throw ApiException.Invalid($"{where}.content", $"'{where}.content' has {text.Length} characters; this server takes at most {limits.MaxMessageChars} per message");
        return new ChatTurn(role, text);
    }

    /// <summary>A string, or text parts joined; an assistant message may have none.</summary>
    static string Content(JsonElement m, string where, TurnRole role)
    {
        string param = $"{where}.content";
        if (!m.TryGetProperty("content", out var c) || c.ValueKind == JsonValueKind.Null)
            return role == TurnRole.Assistant ? "" : throw ApiException.Invalid(param, $"'{param}' is required", "missing_required_parameter");
        if (c.ValueKind == JsonValueKind.String) return c.GetString()!;
        if (c.ValueKind != JsonValueKind.Array) throw JsonFields.Wrong(param, "a string or an array of text parts", c);
        var text = new StringBuilder();
        int j = 0;
        foreach (var part in c.EnumerateArray())
        {
            string? type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type != "text")
                throw ApiException.Invalid($"{param}[{j}].type", $"'{param}[{j}]' is a '{type ?? "(missing type)"}' part; this model reads text parts only");
            if (!part.TryGetProperty("text", out var s) || s.ValueKind != JsonValueKind.String)
                throw ApiException.Invalid($"{param}[{j}].text", $"'{param}[{j}].text' must be a string");
            text.Append(s.GetString());
            j++;
        }
        return text.ToString();
    }
}
