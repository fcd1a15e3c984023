//! Every operator of the seed, `*` wildcards, quoted values, `is`, and `not.`.

use super::Fixture;

#[tokio::test]
async fn comparison_operators_select_the_exact_rows() {
    let f = Fixture::new("operators").await;
    let cases: &[(&str, &[i64])] = &[
        ("category=eq.electronics", &[1, 5]),
        ("category=neq.electronics", &[2, 3, 4]),
        ("price=gt.79.99", &[4, 5]),
        ("price=gte.79.99", &[1, 4, 5]),
        ("price=lt.19.99", &[3]),
        ("price=lte.19.99", &[3, 6]),
        ("price=gte.50&price=lte.200", &[1, 4]),
        ("name=like.*Monitor*", &[4, 5]),
        ("name=like.monitor*", &[]),
        ("name=ilike.*MONITOR*", &[4, 5]),
        ("id=in.(1,3,5)", &[1, 3, 5]),
        (
            "category=in.(accessories,\"electronics\")",
            &[1, 2, 3, 4, 5],
        ),
        ("stock=is.null", &[4]),
        ("stock=is.not_null", &[1, 2, 3, 5, 6]),
        ("discontinued=is.true", &[4]),
        ("discontinued=is.false", &[1, 2, 3, 5, 6]),
        ("category=is.null", &[6]),
        ("price=not.gt.50", &[2, 3, 6]),
        ("id=not.in.(1,2)", &[3, 4, 5, 6]),
        ("category=not.is.null", &[1, 2, 3, 4, 5]),
    ];
    for (query, expected) in cases {
        assert_eq!(
            &f.ids("products", &format!("{query}&order=id")).await,
            expected,
            "{query}"
        );
    }
}

#[tokio::test]
async fn quoted_values_carry_reserved_characters() {
    let f = Fixture::new("operators quoted").await;
    assert_eq!(
        f.ids(
            "customers",
            "name=in.(\"O'Brien, Pat\",\"Jane Doe\")&order=id"
        )
        .await,
        vec![1, 4]
    );
    assert_eq!(f.ids("customers", "name=eq.O'Brien,%20Pat").await, vec![4]);
    assert_eq!(
        f.ids(
            "customers",
            "or=(name.eq.\"O'Brien, Pat\",id.eq.2)&order=id"
        )
        .await,
        vec![2, 4]
    );
}

#[tokio::test]
async fn json_paths_filter_as_text_or_as_json() {
    let f = Fixture::new("operators json").await;
    assert_eq!(f.ids("customers", "data->>city=eq.Paris").await, vec![1]);
    assert_eq!(f.ids("customers", "data->score=gt.6").await, vec![1]);
    assert_eq!(
        f.ids("customers", "data->>city=in.(Paris,Dublin)&order=id")
            .await,
        vec![1, 4]
    );
}

#[tokio::test]
async fn timestamps_and_dates_compare_in_their_own_type() {
    let f = Fixture::new("operators time").await;
    assert_eq!(
        f.ids("orders", "created_at=gte.2024-01-11T00:00:00Z&order=id")
            .await,
        vec![2, 3]
    );
    assert_eq!(f.ids("orders", "created_at=lt.2024-01-11").await, vec![1]);
}
