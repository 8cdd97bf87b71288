//! Modules: the functions that configure an application.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::Application;
use crate::{Error, Result};

/// A module: a plain function that configures an application (installs plugins, registers interceptors and
/// routes). Modules are registered by name with engines and selected by configuration.
pub type ApplicationModule = fn(&mut Application);

impl Application {
    /// Runs `module` on this application. A module that panics (a plugin conflict, an unknown phase) does not
    /// take the process down: its panic becomes an error naming the module.
    ///
    /// ```
    /// use rotor::application::Application;
    ///
    /// let mut app = Application::default();
    /// app.apply_module("ok", |_app| {}).unwrap();
    /// let error = app.apply_module("broken", |_app| panic!("no database URL")).unwrap_err();
    /// assert_eq!(error.to_string(), "module `broken` failed to load: no database URL");
    /// ```
    ///
    /// # Errors
    /// If the module panics.
    pub fn apply_module(&mut self, name: &str, module: impl FnOnce(&mut Application)) -> Result<()> {
        catch_unwind(AssertUnwindSafe(|| module(self))).map_err(|payload| {
            Error::config(format!("module `{name}` failed to load: {}", crate::error::panic_message(payload.as_ref())))
        })
    }
}
