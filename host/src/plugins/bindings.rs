//! The one `bindgen!` of the host: every plugin world's interfaces, generated once
//! from `wit/`. Each world's calls use the interface-level `GuestIndices`, so one
//! set of types serves every plugin kind. The generated items carry the WIT doc
//! comments where the WIT has them.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: [
        "../wit/filter",
        "../wit/validation",
        "../wit/authorizer",
        "../wit/vault",
    ],
    inline: "
        package plinth:host@0.1.0;

        /// Everything the host can call or be called with.
        world host {
            import plinth:vault/sql@0.1.0;
            import plinth:vault/http@0.1.0;
            export plinth:filter/parser@0.1.0;
            export plinth:validation/policy@0.1.0;
            export plinth:authorizer/authorizer@0.1.0;
            export plinth:vault/adapter@0.1.0;
        }
    ",
    imports: { default: async | trappable },
    exports: { default: async },
});
