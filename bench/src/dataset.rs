//! The fixed, seeded data set: 1,000,000 products indexed on `(category, price)` and
//! on `price`, 10,000 customers, 100,000 orders with foreign keys to both, and an
//! `events` table for the writes. Generated inside PostgreSQL from arithmetic on the
//! row number, so every run loads exactly the same rows.

/// Products in the data set.
pub const PRODUCTS: i64 = 1_000_000;

/// The schema and the rows, as the workspace's runtime role.
pub const LOAD: &str = "
DROP TABLE IF EXISTS tenant_custom.orders, tenant_custom.products, tenant_custom.customers, tenant_custom.events;
CREATE TABLE tenant_custom.customers (
    id bigint PRIMARY KEY, name text NOT NULL, email text);
CREATE TABLE tenant_custom.products (
    id bigint PRIMARY KEY, name text NOT NULL, category text NOT NULL,
    price numeric(10,2) NOT NULL, description text);
CREATE TABLE tenant_custom.orders (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES tenant_custom.customers (id),
    product_id bigint NOT NULL REFERENCES tenant_custom.products (id),
    quantity integer NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE tenant_custom.events (
    id bigserial PRIMARY KEY, kind text NOT NULL, payload jsonb,
    created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO tenant_custom.customers
    SELECT i, 'customer ' || i, 'c' || i || '@example.com' FROM generate_series(1, 10000) i;
INSERT INTO tenant_custom.products
    SELECT i, 'product ' || i, 'cat' || (i % 50), ((i * 7919) % 10000) / 100.0, md5(i::text)
    FROM generate_series(1::bigint, 1000000) i;
INSERT INTO tenant_custom.orders
    SELECT i, 1 + (i * 31) % 10000, 1 + (i * 17) % 1000000, 1 + i % 5,
           timestamptz '2026-01-01' + i * interval '1 minute'
    FROM generate_series(1, 100000) i;
CREATE INDEX products_category_price ON tenant_custom.products (category, price);
CREATE INDEX products_price ON tenant_custom.products (price);
CREATE INDEX orders_customer ON tenant_custom.orders (customer_id);
CREATE INDEX orders_product ON tenant_custom.orders (product_id);
";

/// Run after [`LOAD`], outside its transaction: statistics, and the visibility map
/// that lets counts be answered from an index alone.
pub const VACUUM: &str = "VACUUM (ANALYZE) tenant_custom.customers, tenant_custom.products, tenant_custom.orders, tenant_custom.events";
