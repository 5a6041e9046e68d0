//! The filter and sort inputs of `users` and `usersChanged`, converted to the
//! domain's filter.
use std::borrow::Cow;

use async_graphql::registry::{Deprecation, MetaEnumValue, MetaType, MetaTypeId, Registry};
use async_graphql::{Enum, InputObject, InputType, InputValueError, InputValueResult, Json, Name};
use serde_json::Value;

use crate::domain::filter::{Field, Filter, Op};
use crate::error::{AppError, AppResult};

/// The GraphQL enum `FilterOp`: the domain's operators, each by its name in
/// capitals (`icontains` is `ICONTAINS`). The list is the domain's
/// (`Op::NAMES`), so a new operator is a new value here too.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FilterOp(pub Op);

impl FilterOp {
    const TYPE_NAME: &'static str = "FilterOp";
    const DESCRIPTION: &'static str = "Filter operators.";

    /// The value's name in the schema.
    fn name(self) -> String {
        let name = Op::NAMES.iter().find(|n| Op::parse(n) == Some(self.0));
        name.expect("every operator is named").to_ascii_uppercase()
    }

    /// The operator a value of the schema names.
    fn named(name: &str) -> Option<Op> {
        let lower = Op::NAMES.iter().find(|n| n.to_ascii_uppercase() == name)?;
        Op::parse(lower)
    }
}

/// As `#[derive(Enum)]` would generate it, with the values from `Op::NAMES`.
impl InputType for FilterOp {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed(Self::TYPE_NAME)
    }

    fn create_type_info(registry: &mut Registry) -> String {
        registry.create_input_type::<Self, _>(MetaTypeId::Enum, |_| MetaType::Enum {
            name: Self::TYPE_NAME.to_owned(),
            description: Some(Self::DESCRIPTION.to_owned()),
            enum_values: Op::NAMES
                .iter()
                .map(|n| {
                    let name = n.to_ascii_uppercase();
                    let value = MetaEnumValue {
                        name: name.clone(),
                        description: None,
                        deprecation: Deprecation::NoDeprecated,
                        visible: None,
                        inaccessible: false,
                        tags: vec![],
                        directive_invocations: vec![],
                    };
                    (name, value)
                })
                .collect(),
            visible: None,
            inaccessible: false,
            tags: vec![],
            rust_typename: Some(std::any::type_name::<Self>()),
            directive_invocations: vec![],
            requires_scopes: vec![],
        })
    }

    fn parse(value: Option<async_graphql::Value>) -> InputValueResult<Self> {
        let value = value.unwrap_or_default();
        let name = match &value {
            async_graphql::Value::Enum(s) => s.as_str(),
            async_graphql::Value::String(s) => s.as_str(),
            _ => return Err(InputValueError::expected_type(value)),
        };
        Self::named(name).map(FilterOp).ok_or_else(|| {
            InputValueError::custom(format_args!(
                r#"Enumeration type does not contain value "{name}"."#,
            ))
        })
    }

    fn to_value(&self) -> async_graphql::Value {
        async_graphql::Value::Enum(Name::new(self.name()))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}

/// A filter: either a condition (`field`, `op`, `value`) or a combination
/// (`and`, `or`, `not`); several given at once are all required.
#[derive(InputObject)]
pub struct UserWhere {
    pub and: Option<Vec<UserWhere>>,
    pub or: Option<Vec<UserWhere>>,
    pub not: Option<Box<UserWhere>>,
    /// `id`, `email`, `roles`, `verified`, `createdAt`, `updatedAt`, or a profile
    /// path such as `city` or `address.city`; through a relation: `referred_by.email`.
    pub field: Option<String>,
    #[graphql(default_with = "FilterOp(Op::Eq)")]
    pub op: FilterOp,
    pub value: Option<Json<Value>>,
}

/// The domain filters of a list of filters.
fn each(items: &[UserWhere]) -> AppResult<Vec<Filter>> {
    items.iter().map(UserWhere::to_filter).collect()
}

impl UserWhere {
    /// The domain filter.
    pub fn to_filter(&self) -> AppResult<Filter> {
        let mut parts = Vec::new();
        if let Some(items) = &self.and {
            parts.push(Filter::And(each(items)?));
        }
        if let Some(items) = &self.or {
            parts.push(Filter::Or(each(items)?));
        }
        if let Some(inner) = &self.not {
            parts.push(Filter::Not(Box::new(inner.to_filter()?)));
        }
        if let Some(field) = &self.field {
            let value = self
                .value
                .as_ref()
                .map(|j| j.0.clone())
                .unwrap_or(Value::Null);
            parts.push(Filter::cond(Field::parse(field)?, self.op.0, value));
        } else if self.value.is_some() {
            return Err(AppError::validation("where", "`value` needs a `field`"));
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            Filter::And(parts)
        })
    }
}

/// Sort direction.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum SortDirection {
    Asc,
    Desc,
}

/// A sort key.
#[derive(InputObject)]
pub struct UserOrder {
    /// A field as in `UserWhere.field`.
    pub field: String,
    #[graphql(default_with = "SortDirection::Asc")]
    pub direction: SortDirection,
}
