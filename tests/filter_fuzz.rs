//! Property tests ("fuzzing") of the three filter grammars (PocketBase's
//! `filter`, Cocobase's query parameters, GraphQL's `where` input) and the SQL they become:
//! no input panics, every error is a validation error, and the SQL binds exactly
//! one value per placeholder. Failing cases are kept by proptest in
//! `proptest-regressions/`; hand-picked inputs live in `tests/fuzz_corpus/`.
use async_graphql::InputType;
use authgraph::domain::filter::Filter;
use authgraph::graphql::filter::UserWhere;
use authgraph::rest::{cocobase, pb_filter};
use authgraph::store::filter::condition;
use proptest::prelude::*;
use sea_orm::DbBackend;
use sea_orm::sea_query::{Expr, PostgresQueryBuilder, Query, SqliteQueryBuilder};
use serde_json::{Value, json};

/// Builds the SQL of a filter on both databases and checks placeholders.
fn check_sql(f: &Filter) {
    for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
        match condition(backend, f, &Default::default()) {
            Ok(expr) => {
                let q = Query::select()
                    .expr(Expr::val(1))
                    .and_where(expr)
                    .to_owned();
                let (sql, values) = match backend {
                    DbBackend::Postgres => q.build(PostgresQueryBuilder),
                    _ => q.build(SqliteQueryBuilder),
                };
                let placeholders = match backend {
                    DbBackend::Postgres => (1..=values.0.len())
                        .filter(|i| sql.contains(&format!("${i}")))
                        .count(),
                    _ => sql.matches('?').count(),
                };
                assert_eq!(placeholders, values.0.len(), "{sql}");
            }
            Err(e) => assert_eq!(e.code(), "VALIDATION", "{e:?}"),
        }
    }
}

fn pb(input: &str) {
    match pb_filter::parse(input, Some("user1")) {
        Ok(Some(f)) => check_sql(&f),
        Ok(None) => {}
        Err(e) => assert_eq!(e.code(), "VALIDATION", "{input}: {e:?}"),
    }
}

fn coco(input: &str) {
    if let Ok(q) = cocobase::list_query(Some(input)) {
        if let Some(f) = &q.filter {
            check_sql(f);
        }
    }
}

#[test]
fn the_kept_corpus_parses_without_panics() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz_corpus");
    let pbs = std::fs::read_to_string(format!("{dir}/pocketbase_filters.txt")).unwrap();
    let cocos = std::fs::read_to_string(format!("{dir}/cocobase_queries.txt")).unwrap();
    for line in pbs.lines() {
        pb(line);
    }
    for line in cocos.lines() {
        coco(line);
    }
}

fn atom() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        Just("name".to_owned()),
        Just("age".to_owned()),
        Just("email".to_owned()),
        Just("created".to_owned()),
        Just("address.city".to_owned()),
        Just("referred_by.email".to_owned()),
        "[a-z_]{1,8}",
    ];
    let op = prop_oneof![
        Just("="),
        Just("!="),
        Just(">"),
        Just(">="),
        Just("<"),
        Just("<="),
        Just("~"),
        Just("!~"),
        Just("?="),
        Just("?!=")
    ];
    let value = prop_oneof![
        "'[^'\\\\]{0,12}'".prop_map(|s| s),
        any::<i32>().prop_map(|n| n.to_string()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("@request.auth.id".to_owned()),
        Just("'2026-01-01 00:00:00.000Z'".to_owned()),
    ];
    (field, op, value).prop_map(|(f, o, v)| format!("{f} {o} {v}"))
}

fn expression() -> impl Strategy<Value = String> {
    atom().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} || {b}")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics_the_pocketbase_parser(s in "\\PC{0,120}") {
        pb(&s);
    }

    #[test]
    fn well_formed_expressions_parse_and_bind_every_value(s in expression()) {
        match pb_filter::parse(&s, Some("u1")) {
            Ok(Some(f)) => check_sql(&f),
            Ok(None) => prop_assert!(false, "empty parse of {s}"),
            // Only limits and value shapes (dates, operators on dates) may refuse.
            Err(e) => prop_assert_eq!(e.code(), "VALIDATION"),
        }
    }

    #[test]
    fn arbitrary_query_strings_never_panic_the_cocobase_parser(s in "[a-z_.\\[\\]:=&,%0-9A-Z]{0,80}") {
        coco(&s);
    }
}

/// A GraphQL `where` argument as a JSON value: keys of `UserWhere` (and some
/// it does not have) holding anything, nested.
fn where_value() -> impl Strategy<Value = Value> {
    let field = prop_oneof![
        Just(json!("email")),
        Just(json!("createdAt")),
        Just(json!("roles")),
        Just(json!("address.city")),
        Just(json!("referred_by.email")),
        "[a-zA-Z_.]{0,12}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
    ];
    let op = prop_oneof![
        proptest::sample::select(vec![
            "EQ",
            "NE",
            "GT",
            "GTE",
            "LT",
            "LTE",
            "CONTAINS",
            "ICONTAINS",
            "STARTSWITH",
            "ENDSWITH",
            "IN",
            "NOTIN",
            "ISNULL",
        ])
        .prop_map(Value::from),
        "[A-Z]{0,6}".prop_map(Value::from),
    ];
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,16}".prop_map(Value::from),
        Just(json!("2026-01-01T00:00:00Z")),
    ];
    let value = prop_oneof![
        scalar.clone(),
        proptest::collection::vec(scalar, 0..4).prop_map(Value::from),
    ];
    let leaf = (
        proptest::option::of(field),
        proptest::option::of(op),
        proptest::option::of(value),
    )
        .prop_map(|(f, o, v)| {
            let mut m = serde_json::Map::new();
            for (k, x) in [("field", f), ("op", o), ("value", v)] {
                if let Some(x) = x {
                    m.insert(k.into(), x);
                }
            }
            Value::Object(m)
        });
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|v| json!({"and": v})),
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|v| json!({"or": v})),
            inner.clone().prop_map(|v| json!({"not": v})),
            (inner.clone(), inner)
                .prop_map(|(a, b)| json!({"and": [a], "or": [b], "field": "email"})),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_graphql_where_input_is_a_filter_or_a_validation_error(v in where_value()) {
        // What async-graphql refuses as input is a GraphQL validation error
        // before any resolver runs; what it accepts becomes a domain filter.
        let Ok(w) = UserWhere::parse(Some(async_graphql::Value::from_json(v.clone()).unwrap())) else {
            return Ok(());
        };
        match w.to_filter() {
            Ok(f) => check_sql(&f),
            Err(e) => prop_assert_eq!(e.code(), "VALIDATION", "{}: {:?}", v, e),
        }
    }
}
