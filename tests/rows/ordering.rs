//! `order` on several columns with directions and nulls placement.

use super::Fixture;

#[tokio::test]
async fn order_takes_several_columns_directions_and_nulls_placement() {
    let f = Fixture::new("ordering").await;
    assert_eq!(
        f.ids("products", "order=price.desc").await,
        vec![5, 4, 1, 2, 6, 3]
    );
    assert_eq!(
        f.ids("products", "order=category.asc,price.desc").await,
        vec![4, 2, 3, 5, 1, 6]
    );
    assert_eq!(
        f.ids("products", "order=category.asc.nullsfirst,id.asc")
            .await,
        vec![6, 2, 3, 4, 1, 5]
    );
    assert_eq!(
        f.ids("products", "order=stock.desc.nullslast").await,
        vec![3, 6, 1, 5, 2, 4]
    );
    assert_eq!(
        f.ids("products", "order=stock.desc.nullsfirst").await,
        vec![4, 3, 6, 1, 5, 2]
    );
    assert_eq!(
        f.ids("customers", "order=data->>city.asc.nullslast,id")
            .await,
        vec![2, 4, 1, 3]
    );
}
