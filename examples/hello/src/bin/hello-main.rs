//! Serves the hello module with `EngineMain`: the configuration comes from `application.conf` in the working
//! directory (the repository's top-level one when run from the repository), `-config=`, `-P:key=value`,
//! `-host=` and `-port=`; `rotor.application.modules = [ hello ]` selects the module.
//!
//! ```sh
//! cargo run -p hello --bin hello-main
//! cargo run -p hello --bin hello-main -- -port=3000
//! ```

use std::process::ExitCode;

use rotor::engine::EngineMain;
use rotor_hyper::Hyper;

fn main() -> ExitCode {
    EngineMain::new(Hyper).module("hello", hello::module).main()
}
