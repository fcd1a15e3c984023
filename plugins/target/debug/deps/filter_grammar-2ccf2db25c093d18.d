/work/main/plugins/target/debug/deps/filter_grammar-2ccf2db25c093d18.d: filter-grammar/src/lib.rs filter-grammar/src/ast.rs filter-grammar/src/cursor.rs filter-grammar/src/params.rs filter-grammar/src/parse.rs filter-grammar/src/render.rs filter-grammar/src/tests.rs

/work/main/plugins/target/debug/deps/filter_grammar-2ccf2db25c093d18: filter-grammar/src/lib.rs filter-grammar/src/ast.rs filter-grammar/src/cursor.rs filter-grammar/src/params.rs filter-grammar/src/parse.rs filter-grammar/src/render.rs filter-grammar/src/tests.rs

filter-grammar/src/lib.rs:
filter-grammar/src/ast.rs:
filter-grammar/src/cursor.rs:
filter-grammar/src/params.rs:
filter-grammar/src/parse.rs:
filter-grammar/src/render.rs:
filter-grammar/src/tests.rs:
