using Microsoft.Extensions.VectorData;

namespace SemanticSearch.VectorData.Tests;

/// <summary>A record that brings its own 8-dimensional vector, with a property of every filterable kind.</summary>
public sealed class Note
{
    [VectorStoreKey]
    public Guid Id { get; set; }

    [VectorStoreData(IsFullTextIndexed = true)]
    public string Text { get; set; } = string.Empty;

    [VectorStoreData(IsIndexed = true)]
    public string Category { get; set; } = string.Empty;

    [VectorStoreData(IsIndexed = true)]
    public int Rank { get; set; }

    [VectorStoreData(IsIndexed = true)]
    public double Weight { get; set; }

    [VectorStoreData(IsIndexed = true)]
    public bool Done { get; set; }

    [VectorStoreData(IsIndexed = true)]
    public DateTimeOffset When { get; set; }

    [VectorStoreData(IsIndexed = true)]
    public List<string> Tags { get; set; } = [];

    [VectorStoreData(IsIndexed = true)]
    public string? Owner { get; set; }

    [VectorStoreVector(Note.Dimensions)]
    public ReadOnlyMemory<float> Embedding { get; set; }

    public const int Dimensions = 8;
}

/// <summary>A record whose vector is its text, embedded by the collection's model (the Agent Framework's shape).</summary>
public sealed class Passage
{
    [VectorStoreKey]
    public string Key { get; set; } = string.Empty;

    [VectorStoreData(IsFullTextIndexed = true)]
    public string Body { get; set; } = string.Empty;

    [VectorStoreData(IsIndexed = true)]
    public string Topic { get; set; } = string.Empty;

    [VectorStoreVector(TestModelDimensions)]
    public string? BodyEmbedding { get; set; }

    /// <summary>The seeded test BERT's hidden size.</summary>
    public const int TestModelDimensions = 32;
}

/// <summary>Two full-text fields: a keyword search must be told which one it ranks.</summary>
public sealed class TwoTexts
{
    [VectorStoreKey]
    public int Id { get; set; }

    [VectorStoreData(IsFullTextIndexed = true)]
    public string Title { get; set; } = string.Empty;

    [VectorStoreData(IsFullTextIndexed = true)]
    public string Body { get; set; } = string.Empty;

    [VectorStoreVector(4)]
    public float[] Vector { get; set; } = [];
}
