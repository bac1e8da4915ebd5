using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace SemanticSearch.VectorData.Tests;

/// <summary>
/// The Agent Framework's own chat-history memory (a dynamic collection: Guid key, indexed scope fields, full-text
/// Content, a string vector the store embeds) storing an agent's conversation in the provider and recalling it in a
/// later session. The chat model is the one stand-in: a recording client at the system boundary.
/// </summary>
public sealed class AgentFrameworkTests
{
    [Fact]
    public async Task ChatHistoryMemory_StoresMessagesAndRecallsThemForTheSameUserOnly()
    {
        using var dir = new TempDir();
        using var store = new SemanticSearchVectorStore(dir.Path, new() { Model = TestModels.TestBertDirectory });
        var chat = new RecordingChatClient();

        async Task<AIAgent> AgentFor(string user)
        {
            var memory = new ChatHistoryMemoryProvider(store, "chat-history", Passage.TestModelDimensions,
                _ => new ChatHistoryMemoryProvider.State(new ChatHistoryMemoryProviderScope { UserId = user }, new ChatHistoryMemoryProviderScope { UserId = user }));
            await Task.CompletedTask;
            return new ChatClientAgent(chat, new ChatClientAgentOptions { AIContextProviders = [memory] });
        }

        var alice = await AgentFor("alice");
        await alice.RunAsync("My cat is called Miso and she likes sardines.", await alice.CreateSessionAsync());
        var bob = await AgentFor("bob");
        await bob.RunAsync("My dog is called Rex.", await bob.CreateSessionAsync());

        // both conversations were stored through the provider: the user's message and the reply, per user
        var stored = store.GetDynamicCollection("chat-history", new Microsoft.Extensions.VectorData.VectorStoreCollectionDefinition
        {
            Properties =
            [
                new Microsoft.Extensions.VectorData.VectorStoreKeyProperty("Key", typeof(Guid)),
                new Microsoft.Extensions.VectorData.VectorStoreDataProperty("UserId", typeof(string)) { IsIndexed = true },
                new Microsoft.Extensions.VectorData.VectorStoreDataProperty("Content", typeof(string)) { IsFullTextIndexed = true },
            ],
        });
        var aliceRecords = await stored.GetAsync(r => (string?)r["UserId"] == "alice", 10).ToListAsync();
        Assert.Equal(2, aliceRecords.Count);
        Assert.Contains(aliceRecords, r => ((string)r["Content"]!).Contains("Miso", StringComparison.Ordinal));

        // a new session of alice's: the memory is searched and handed to the model with her request
        var later = await AgentFor("alice");
        chat.Received.Clear();
        await later.RunAsync("What is my cat called?", await later.CreateSessionAsync());
        var sent = string.Join("\n", chat.Received.Single().Select(m => m.Text));
        Assert.Contains("Miso", sent, StringComparison.Ordinal);
        Assert.DoesNotContain("Rex", sent, StringComparison.Ordinal); // bob's memory is filtered out
    }

    private sealed class RecordingChatClient : IChatClient
    {
        public List<List<ChatMessage>> Received { get; } = [];

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Received.Add(messages.ToList());
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Noted.")));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("the test agent is not streamed");

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
