// The LINQ filters the abstraction allows, as engine metadata conditions: ==, !=, <, <=, >, >= on a property and a
// constant (either side), && || !, a bool property alone, list.Contains(constant) on a list property, and
// constantList.Contains(property) (any of). Anything else is refused with the expression named, never dropped.
using System.Linq.Expressions;
using Microsoft.Extensions.VectorData.ProviderServices;
using Microsoft.Extensions.VectorData.ProviderServices.Filter;
using SemanticSearch.Core.Filtering;

namespace SemanticSearch.VectorData;

internal sealed class FilterTranslator : FilterTranslatorBase
{
    private readonly Func<PropertyModel, string?> _fieldOf;

    // fieldOf: the metadata key of a filterable property, or null when it is not filterable (full-text only, a vector).
    public FilterTranslator(Func<PropertyModel, string?> fieldOf) => _fieldOf = fieldOf;

    public MetadataCondition Translate(LambdaExpression filter, CollectionModel model)
    {
        var body = PreprocessFilter(filter, model, new FilterPreprocessingOptions());
        return Node(body);
    }

    private MetadataCondition Node(Expression e)
    {
        switch (e)
        {
            case BinaryExpression { NodeType: ExpressionType.AndAlso } and:
                return new MetadataCondition.All([Node(and.Left), Node(and.Right)]);
            case BinaryExpression { NodeType: ExpressionType.OrElse } or:
                return new MetadataCondition.Any([Node(or.Left), Node(or.Right)]);
            case UnaryExpression { NodeType: ExpressionType.Not } not:
                return new MetadataCondition.Not(Node(not.Operand));
            case UnaryExpression { NodeType: ExpressionType.Convert } convert when convert.Type == typeof(bool) || convert.Type == typeof(bool?):
                return Node(convert.Operand);
            case BinaryExpression b when b.NodeType is ExpressionType.Equal or ExpressionType.NotEqual or ExpressionType.LessThan
                or ExpressionType.LessThanOrEqual or ExpressionType.GreaterThan or ExpressionType.GreaterThanOrEqual:
                return Comparison(b);
            case MethodCallExpression call when TryMatchContains(call, out var source, out var item):
                return Contains(source, item, e);
            case ConstantExpression { Value: bool constant }:
                return constant ? new MetadataCondition.All([]) : new MetadataCondition.Any([]);
            default:
                if (e.Type == typeof(bool) && TryBindProperty(e, out var flag))
                {
                    return new MetadataCondition.Equal(Field(flag, e), RecordValues.Term(true));
                }
                throw new NotSupportedException($"filter: '{e}' is not supported (use ==, !=, <, <=, >, >=, &&, ||, ! and Contains on record properties and constants).");
        }
    }

    private MetadataCondition Comparison(BinaryExpression b)
    {
        var op = b.NodeType;
        PropertyModel? property;
        object? value;
        if (TryBindProperty(b.Left, out property) && Constant(b.Right, out value))
        {
        }
        else if (TryBindProperty(b.Right, out property) && Constant(b.Left, out value))
        {
            op = Mirror(op);
        }
        else
        {
            throw new NotSupportedException($"filter: '{b}' must compare a record property with a constant.");
        }
        var field = Field(property, b);
        if (value is null)
        {
            // "x == null": the record has no value, which is what a missing field means here
            return op switch
            {
                ExpressionType.Equal => new MetadataCondition.Not(new MetadataCondition.Range(field, null, null, true, true)),
                ExpressionType.NotEqual => new MetadataCondition.Range(field, null, null, true, true),
                _ => throw new NotSupportedException($"filter: '{b}' orders against null."),
            };
        }
        var term = RecordValues.Term(Coerce(value, property));
        return op switch
        {
            ExpressionType.Equal => new MetadataCondition.Equal(field, term),
            ExpressionType.NotEqual => new MetadataCondition.Not(new MetadataCondition.Equal(field, term)),
            ExpressionType.LessThan => Ordered(property, b, new MetadataCondition.Range(field, null, term, true, false)),
            ExpressionType.LessThanOrEqual => Ordered(property, b, new MetadataCondition.Range(field, null, term, true, true)),
            ExpressionType.GreaterThan => Ordered(property, b, new MetadataCondition.Range(field, term, null, false, true)),
            _ => Ordered(property, b, new MetadataCondition.Range(field, term, null, true, true)),
        };
    }

    // Ranges only on types whose terms sort like their values (strings sort ordinally, which is what Lucene does too).
    private static MetadataCondition Ordered(PropertyModel property, Expression e, MetadataCondition range)
    {
        var t = Nullable.GetUnderlyingType(property.Type) ?? property.Type;
        if (t == typeof(bool) || t == typeof(Guid) || RecordValues.ElementType(t) is not null)
        {
            throw new NotSupportedException($"filter: '{e}' orders property '{property.ModelName}' of type {t.Name}, which has no order.");
        }
        return range;
    }

    private MetadataCondition Contains(Expression source, Expression item, Expression whole)
    {
        // record.Tags.Contains("x"): the list property has that element
        if (TryBindProperty(source, out var list) && Constant(item, out var element))
        {
            var elementType = RecordValues.ElementType(list.Type)
                ?? throw new NotSupportedException($"filter: '{whole}' calls Contains on '{list.ModelName}', which is not a list.");
            if (element is null)
            {
                throw new NotSupportedException($"filter: '{whole}' looks for null in a list.");
            }
            var term = RecordValues.Term(CoerceTo(element, Nullable.GetUnderlyingType(elementType) ?? elementType, list));
            return new MetadataCondition.Equal(RecordValues.ElementKey(Field(list, whole), term), "1");
        }
        // new[] { "a", "b" }.Contains(record.Kind): the property has one of the values
        if (Constant(source, out var values) && TryBindProperty(item, out var property) && values is System.Collections.IEnumerable items)
        {
            var field = Field(property, whole);
            return new MetadataCondition.Any(items.Cast<object?>()
                .Where(v => v is not null)
                .Select(v => (MetadataCondition)new MetadataCondition.Equal(field, RecordValues.Term(Coerce(v!, property))))
                .ToList());
        }
        throw new NotSupportedException($"filter: '{whole}' is not a supported Contains (list property with a constant, or constant list with a property).");
    }

    private string Field(PropertyModel property, Expression e) =>
        _fieldOf(property) ?? throw new InvalidOperationException(
            $"filter: '{e}' tests property '{property.ModelName}', which is not filterable (mark it [VectorStoreData(IsIndexed = true)]; full-text-only and vector properties are not).");

    // A constant, or an expression of constants only (a new[] { ... } list): evaluated here, once.
    private bool Constant(Expression e, out object? value)
    {
        while (e is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } convert)
        {
            e = convert.Operand;
        }
        if (e is ConstantExpression c)
        {
            value = c.Value;
            return true;
        }
        if (e is NewArrayExpression or ListInitExpression && !UsesRecord.Check(e, RecordParameter))
        {
            value = Expression.Lambda(e).Compile(preferInterpretation: true).DynamicInvoke();
            return true;
        }
        value = null;
        return false;
    }

    private sealed class UsesRecord(ParameterExpression record) : ExpressionVisitor
    {
        private bool _found;

        public static bool Check(Expression e, ParameterExpression record)
        {
            var v = new UsesRecord(record);
            v.Visit(e);
            return v._found;
        }

        protected override Expression VisitParameter(ParameterExpression node)
        {
            _found |= node == record;
            return node;
        }
    }

    // A constant in the property's own type, so an int literal compared with a long or double property encodes alike.
    private static object Coerce(object value, PropertyModel property)
    {
        var t = Nullable.GetUnderlyingType(property.Type) ?? property.Type;
        if (RecordValues.ElementType(t) is { } element)
        {
            t = Nullable.GetUnderlyingType(element) ?? element;
        }
        return CoerceTo(value, t, property);
    }

    private static object CoerceTo(object value, Type t, PropertyModel property)
    {
        if (t.IsInstanceOfType(value) || t == typeof(object))
        {
            return value;
        }
        try
        {
            return value is IConvertible && t.IsPrimitive ? Convert.ChangeType(value, t, System.Globalization.CultureInfo.InvariantCulture) : value;
        }
        catch (Exception e) when (e is InvalidCastException or OverflowException or FormatException)
        {
            throw new NotSupportedException($"filter: the value {value} does not fit property '{property.ModelName}' of type {t.Name}.", e);
        }
    }

    private static ExpressionType Mirror(ExpressionType op) => op switch
    {
        ExpressionType.LessThan => ExpressionType.GreaterThan,
        ExpressionType.LessThanOrEqual => ExpressionType.GreaterThanOrEqual,
        ExpressionType.GreaterThan => ExpressionType.LessThan,
        ExpressionType.GreaterThanOrEqual => ExpressionType.LessThanOrEqual,
        _ => op,
    };
}
