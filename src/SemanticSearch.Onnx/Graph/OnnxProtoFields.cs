namespace SemanticSearch.Onnx.Graph;

// Field numbers from onnx/onnx.proto. onnx.proto is proto2, so repeated scalars are written unpacked (one tag per
// element), which is what every ONNX reader expects to accept.
internal static class ModelField
{
    public const int IrVersion = 1, ProducerName = 2, ProducerVersion = 3, Domain = 4, ModelVersion = 5, DocString = 6,
        Graph = 7, OpsetImport = 8, MetadataProps = 14;
}

internal static class OpsetField { public const int Domain = 1, Version = 2; }

internal static class StringEntryField { public const int Key = 1, Value = 2; }

internal static class GraphField
{
    public const int Node = 1, Name = 2, Initializer = 5, DocString = 10, Input = 11, Output = 12, ValueInfo = 13;
}

internal static class NodeField
{
    public const int Input = 1, Output = 2, Name = 3, OpType = 4, Attribute = 5, DocString = 6, Domain = 7;
}

internal static class AttributeField
{
    public const int Name = 1, F = 2, I = 3, S = 4, T = 5, Floats = 7, Ints = 8, Strings = 9, Type = 20;

    // AttributeProto.AttributeType
    public const int TypeFloat = 1, TypeInt = 2, TypeString = 3, TypeTensor = 4, TypeFloats = 6, TypeInts = 7, TypeStrings = 8;
}

internal static class TensorField
{
    public const int Dims = 1, DataType = 2, Name = 8, RawData = 9;
}

internal static class ValueInfoField { public const int Name = 1, Type = 2; }

internal static class TypeField { public const int TensorType = 1; }

internal static class TensorTypeField { public const int ElemType = 1, Shape = 2; }

internal static class ShapeField { public const int Dim = 1; }

internal static class DimField { public const int DimValue = 1, DimParam = 2; }
