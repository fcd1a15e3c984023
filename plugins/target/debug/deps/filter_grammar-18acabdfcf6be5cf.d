/work/main/plugins/target/debug/deps/filter_grammar-18acabdfcf6be5cf.d: filter-grammar/src/lib.rs filter-grammar/src/ast.rs filter-grammar/src/cursor.rs filter-grammar/src/params.rs filter-grammar/src/parse.rs filter-grammar/src/render.rs

/work/main/plugins/target/debug/deps/libfilter_grammar-18acabdfcf6be5cf.rlib: filter-grammar/src/lib.rs filter-grammar/src/ast.rs filter-grammar/src/cursor.rs filter-grammar/src/params.rs filter-grammar/src/parse.rs filter-grammar/src/render.rs

/work/main/plugins/target/debug/deps/libfilter_grammar-18acabdfcf6be5cf.rmeta: filter-grammar/src/lib.rs filter-grammar/src/ast.rs filter-grammar/src/cursor.rs filter-grammar/src/params.rs filter-grammar/src/parse.rs filter-grammar/src/render.rs

filter-grammar/src/lib.rs:
filter-grammar/src/ast.rs:
filter-grammar/src/cursor.rs:
filter-grammar/src/params.rs:
filter-grammar/src/parse.rs:
filter-grammar/src/render.rs:
