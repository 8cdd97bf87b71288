//! The `Plugin` trait and the registry of installed plugins.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::PluginBuilder;
use crate::{Error, Result};

/// Something that can be installed into an application (Ktor's `Plugin`/`BaseApplicationPlugin`): given its
/// configuration, it registers interceptors and hooks through a [`PluginBuilder`] and returns its instance,
/// which the application keeps under the plugin's [`key`](Plugin::key).
///
/// Built-in plugins implement this trait through the same public API a user has. For most plugins,
/// [`create_application_plugin`](super::create_application_plugin) is shorter.
///
/// ```
/// use std::sync::Arc;
/// use rotor::application::{Application, Plugin, PluginBuilder};
///
/// /// Adds `X-Powered-By` to every response.
/// struct PoweredBy;
///
/// impl Plugin for PoweredBy {
///     type Config = String;
///     type Instance = String;
///
///     fn key(&self) -> &'static str { "PoweredBy" }
///
///     fn install(&self, plugin: &mut PluginBuilder<'_>, config: String) -> rotor::Result<Arc<String>> {
///         let value = Arc::new(config.clone());
///         plugin.on_call(move |call| {
///             let value = Arc::clone(&value);
///             async move { call.response().set_header("x-powered-by", value.as_str()) }
///         });
///         Ok(Arc::new(config))
///     }
/// }
///
/// let mut app = Application::default();
/// let instance = app.install(PoweredBy, "Rotor".to_owned());
/// assert_eq!(*instance, "Rotor");
/// assert_eq!(app.plugin(&PoweredBy).as_deref().map(String::as_str), Some("Rotor"));
/// ```
pub trait Plugin: Send + Sync + 'static {
    /// What the plugin is configured with.
    type Config: Send + 'static;
    /// What installing it returns and what [`Application::plugin`](super::Application::plugin) finds later.
    type Instance: Send + Sync + 'static;

    /// The key the plugin is registered under; one plugin per key per application.
    fn key(&self) -> &'static str;

    /// Installs the plugin: registers its interceptors and hooks, and returns the instance to keep.
    ///
    /// # Errors
    /// If the configuration is invalid; the message should name the setting.
    fn install(&self, plugin: &mut PluginBuilder<'_>, config: Self::Config) -> Result<Arc<Self::Instance>>;

    /// True if `other` is the same plugin as `self` (both are of this type and share the key). Plugins that
    /// differ by value, such as those made by `create_application_plugin`, compare their definitions.
    fn is_same(&self, other: &Self) -> bool {
        let _ = other;
        true
    }
}

/// The plugins installed on one pipeline, by key.
#[derive(Default)]
pub(crate) struct PluginRegistry {
    installed: HashMap<&'static str, Installed>,
}

struct Installed {
    plugin_type: &'static str,
    plugin: Box<dyn Any + Send + Sync>,
    instance: Arc<dyn Any + Send + Sync>,
}

impl fmt::Debug for PluginRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.installed.keys()).finish()
    }
}

/// What the registry holds for a key a plugin is about to be installed under.
pub(crate) enum Lookup<I> {
    /// Nothing: install it.
    Vacant,
    /// The same plugin: this is its instance.
    Same(Arc<I>),
}

impl PluginRegistry {
    /// The instance of `plugin` if it is installed; `Vacant` if its key is free.
    ///
    /// # Errors
    /// If a different plugin holds the key.
    pub(crate) fn lookup<P: Plugin>(&self, plugin: &P) -> Result<Lookup<P::Instance>> {
        let key = plugin.key();
        let Some(installed) = self.installed.get(key) else { return Ok(Lookup::Vacant) };
        let same = installed.plugin.downcast_ref::<P>().is_some_and(|existing| existing.is_same(plugin));
        match Arc::clone(&installed.instance).downcast::<P::Instance>() {
            Ok(instance) if same => Ok(Lookup::Same(instance)),
            _ => Err(Error::plugin(format!(
                "cannot install plugin `{}` under key `{key}`: a different plugin (`{}`) is already installed under \
                 that key. Give each plugin a unique key and install each once",
                std::any::type_name::<P>(),
                installed.plugin_type
            ))),
        }
    }

    pub(crate) fn insert<P: Plugin>(&mut self, plugin: P, instance: Arc<P::Instance>) {
        let key = plugin.key();
        let entry = Installed { plugin_type: std::any::type_name::<P>(), plugin: Box::new(plugin), instance };
        self.installed.insert(key, entry);
    }

    /// The instance under `plugin`'s key, if it is that plugin's.
    pub(crate) fn get<P: Plugin>(&self, plugin: &P) -> Option<Arc<P::Instance>> {
        let installed = self.installed.get(plugin.key())?;
        let same = installed.plugin.downcast_ref::<P>().is_some_and(|existing| existing.is_same(plugin));
        if !same {
            return None;
        }
        Arc::clone(&installed.instance).downcast::<P::Instance>().ok()
    }

    /// The keys of every installed plugin.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.installed.keys().copied()
    }
}
