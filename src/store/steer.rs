//! Steering SQLite's planner through the SQL of a list: which of a
//! collection's declared indexes a filter's conditions may be searched by.
//!
//! SQLite's statistics (`analysis_limit` samples, no STAT4 in the bundled
//! library) tell it well how many rows an equality on an indexed field
//! finds, but it guesses a range's share, and at 1,000,000 users it guessed
//! wrong: the total of `city = X && age > 30` searched the `age` index and
//! read ~780,000 rows (2,077 ms) where the `city` index reads 20,000
//! (BENCHMARKS.md, "Third pass"). So when a filter has an equality on an
//! indexed field, the other indexed expressions are written with a unary `+`
//! (a no-op on every value that no index matches), which leaves the planner
//! the equalities' indexes, and a composite index whose leading fields the
//! filter fixes. And a total that no index can narrow scans the table
//! instead of walking an index of the collection and reading each row at
//! random (2,505 ms against 414 ms). Postgres plans both well: not steered.
use std::collections::BTreeSet;

use entity::user;
use sea_orm::DbBackend;
use sea_orm::sea_query::{Expr, ExprTrait};
use serde_json::Value as Json;

use crate::domain::collections::{Collection, FieldType};
use crate::domain::filter::{Field, Filter, Op, Sort};
use crate::error::AppResult;

/// What the SQL of one list does to steer the planner.
#[derive(Debug, Default)]
pub struct Steer {
    /// Profile fields whose index the conditions must not be searched by.
    pub(super) demoted: BTreeSet<String>,
    /// Whether the collection's own condition is kept from every index, so
    /// that a total no index narrows scans the table.
    pub(super) scan: bool,
}

/// What the SQL is for: a total, or a page whose order starts with this key.
#[derive(Clone, Copy)]
pub enum Purpose<'a> {
    Count,
    Page(Option<&'a Sort>),
}

/// How a condition on a profile field can be searched by that field's index.
#[derive(Clone, Copy, PartialEq)]
enum Reach {
    Equal,
    Range,
}

impl Steer {
    /// The steering of `filter`'s SQL over `collection`'s declared indexes.
    pub fn new(pg: bool, collection: &Collection, filter: &Filter, purpose: Purpose) -> Steer {
        if pg {
            return Steer::default();
        }
        let keys = super::indexes::declared_keys(collection);
        let conjuncts = conjuncts(filter);
        let mut equal = BTreeSet::new();
        let mut range = BTreeSet::new();
        for c in &conjuncts {
            match reach(collection, c) {
                Some((name, Reach::Equal)) => equal.insert(name),
                Some((name, Reach::Range)) => range.insert(name),
                None => false,
            };
        }
        if equal.is_empty() {
            // Ranges alone: their index is the right one. Nothing an index
            // narrows: a total reads every row of the collection anyway.
            let served = conjuncts.iter().any(|c| served(collection, &keys, c));
            let scan = matches!(purpose, Purpose::Count) && !served;
            return Steer {
                demoted: BTreeSet::new(),
                scan,
            };
        }
        // The equalities keep their indexes (the statistics tell those apart);
        // a composite index whose leading fields are fixed, then at most one
        // range, keeps its fields too: it answers more from the index alone.
        let mut kept = equal.clone();
        let best = keys
            .iter()
            .map(|key| {
                let fixed = key.iter().take_while(|f| equal.contains(*f)).count();
                let ranged = key
                    .get(fixed)
                    .is_some_and(|f| range.contains(f) || equal.contains(f));
                (fixed + usize::from(fixed > 0 && ranged), key)
            })
            .filter(|(matched, key)| *matched > 1 && key.len() > 1)
            .max_by_key(|(matched, _)| *matched);
        if let Some((matched, key)) = best {
            kept.extend(key[..matched].iter().cloned());
        }
        let demoted: BTreeSet<String> = keys
            .iter()
            .flatten()
            .filter(|f| !kept.contains(*f))
            .cloned()
            .collect();
        // A page ordered by a demoted field: that field's index may read the
        // page in order, which can beat the equality's index and a sort; the
        // planner weighs that one itself.
        if let Purpose::Page(first) = purpose {
            let by_demoted = first.is_some_and(|sort| match &sort.field {
                Field::Data(path) => path.len() == 1 && demoted.contains(&path[0]),
                _ => false,
            });
            if by_demoted {
                return Steer::default();
            }
        }
        Steer {
            demoted,
            scan: false,
        }
    }
}

/// The conditions a row must meet all of (a top-level `&&`, flattened).
fn conjuncts(filter: &Filter) -> Vec<&Filter> {
    match filter {
        Filter::And(items) => items.iter().flat_map(conjuncts).collect(),
        other => vec![other],
    }
}

/// Whether `value` is written (`store::filter::data`) as the expression of
/// an index on a field of this type: a number's typed value, or the text.
fn matches_type(field_type: FieldType, value: &Json) -> bool {
    match value {
        Json::Number(_) => field_type == FieldType::Number,
        Json::String(_) => field_type != FieldType::Number,
        _ => false,
    }
}

/// The profile field whose index expression `c` compares, and how.
fn reach(collection: &Collection, c: &Filter) -> Option<(String, Reach)> {
    let Filter::Cond {
        field: Field::Data(path),
        op,
        value,
    } = c
    else {
        return None;
    };
    let [name] = &path[..] else {
        return None;
    };
    let decl = collection.field(name)?;
    let how = match op {
        Op::Eq if matches_type(decl.field_type, value) => Reach::Equal,
        Op::In => {
            let items = value.as_array()?;
            let all = items.iter().all(|v| matches_type(decl.field_type, v));
            if items.is_empty() || !all {
                return None;
            }
            Reach::Equal
        }
        Op::Gt | Op::Gte | Op::Lt | Op::Lte if matches_type(decl.field_type, value) => Reach::Range,
        _ => return None,
    };
    Some((name.clone(), how))
}

/// Whether some index narrows the rows `c` leaves: a declared index that
/// starts with its field, or the id's, the email's or the creation time's.
fn served(collection: &Collection, keys: &[Vec<String>], c: &Filter) -> bool {
    match c {
        Filter::And(items) => items.iter().any(|i| served(collection, keys, i)),
        Filter::Or(items) => !items.is_empty() && items.iter().all(|i| served(collection, keys, i)),
        Filter::Cond { field, op, .. } => match field {
            Field::Id | Field::Email => matches!(op, Op::Eq | Op::In),
            Field::CreatedAt => matches!(op, Op::Eq | Op::Gt | Op::Gte | Op::Lt | Op::Lte),
            Field::Data(_) => reach(collection, c)
                .is_some_and(|(name, _)| keys.iter().any(|k| k.first() == Some(&name))),
            _ => false,
        },
        Filter::Not(_) | Filter::Related { .. } => false,
    }
}

/// The condition of a list of one collection: its users, then `filter`
/// (when given), steered for `purpose`.
pub fn in_collection(
    backend: DbBackend,
    collection: &Collection,
    filter: Option<&Filter>,
    purpose: Purpose,
) -> AppResult<Expr> {
    let pg = backend == DbBackend::Postgres;
    let steer = match filter {
        Some(f) => Steer::new(pg, collection, f, purpose),
        None => Steer::default(),
    };
    let id = collection.id.clone();
    let scope = if steer.scan {
        Expr::cust_with_values("+users.collection_id = ?", [id])
    } else {
        Expr::col((user::Entity, user::Column::CollectionId)).eq(id)
    };
    Ok(match filter {
        Some(f) => scope.and(super::filter::condition(backend, f, &steer.demoted)?),
        None => scope,
    })
}
