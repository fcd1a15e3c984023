-- The Data API test fixture, created by the workspace's runtime role in tenant_custom.
CREATE TABLE tenant_custom.customers (
    id         integer PRIMARY KEY,
    name       text NOT NULL,
    email      text UNIQUE,
    tier       text,
    data       jsonb,
    created_at timestamptz NOT NULL DEFAULT '2024-01-01T00:00:00Z'
);
CREATE TABLE tenant_custom.products (
    id           integer PRIMARY KEY,
    name         text NOT NULL,
    price        numeric(10,2) CHECK (price >= 0),
    category     text,
    stock        integer,
    discontinued boolean NOT NULL DEFAULT false
);
CREATE TABLE tenant_custom.orders (
    id          integer PRIMARY KEY,
    customer_id integer REFERENCES tenant_custom.customers,
    total       numeric(10,2),
    status      text,
    created_at  timestamptz
);
CREATE TABLE tenant_custom.order_items (
    order_id   integer REFERENCES tenant_custom.orders,
    product_id integer REFERENCES tenant_custom.products,
    qty        integer NOT NULL,
    PRIMARY KEY (order_id, product_id)
);
CREATE TABLE tenant_custom.transfers (
    id          integer PRIMARY KEY,
    sender_id   integer CONSTRAINT transfers_sender_fk REFERENCES tenant_custom.customers,
    receiver_id integer CONSTRAINT transfers_receiver_fk REFERENCES tenant_custom.customers,
    amount      numeric
);
CREATE TABLE tenant_custom.events (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL DEFAULT 'note',
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO tenant_custom.customers (id, name, email, tier, data) VALUES
    (1, 'Jane Doe', 'jane@acme.com', 'gold', '{"city": "Paris", "tags": ["a", "b"], "score": 10}'),
    (2, 'John Roe', 'john@acme.com', 'silver', '{"city": "Berlin", "score": 5}'),
    (3, 'Ann Lee', NULL, NULL, NULL),
    (4, 'O''Brien, Pat', 'pat@x.io', 'gold', '{"city": "Dublin"}');
INSERT INTO tenant_custom.products (id, name, price, category, stock, discontinued) VALUES
    (1, 'Wireless Headphones', 79.99, 'electronics', 10, false),
    (2, 'Laptop Stand', 45.00, 'accessories', 0, false),
    (3, 'USB-C Cable', 12.99, 'accessories', 100, false),
    (4, 'Monitor Arm', 89.99, 'accessories', NULL, true),
    (5, '4K Monitor', 399.00, 'electronics', 3, false),
    (6, 'Phone Case', 19.99, NULL, 50, false);
INSERT INTO tenant_custom.orders (id, customer_id, total, status, created_at) VALUES
    (1, 1, 198.95, 'paid', '2024-01-10T10:00:00Z'),
    (2, 1, 12.99, 'pending', '2024-01-12T10:00:00Z'),
    (3, 2, 399.00, 'paid', '2024-01-11T10:00:00Z'),
    (4, NULL, 19.99, 'cancelled', NULL);
INSERT INTO tenant_custom.order_items (order_id, product_id, qty) VALUES
    (1, 1, 1), (1, 3, 2), (2, 3, 1), (3, 5, 1), (4, 6, 1);
INSERT INTO tenant_custom.transfers (id, sender_id, receiver_id, amount) VALUES
    (1, 1, 2, 10), (2, 2, 1, 5);
