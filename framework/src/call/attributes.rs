//! Typed attributes: a map from `AttributeKey<T>` to values of `T`.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// The key of a typed attribute; its name identifies it, and its type says what it holds.
///
/// ```
/// use rotor::call::{AttributeKey, Attributes};
///
/// const USER_ID: AttributeKey<u64> = AttributeKey::new("UserId");
/// let mut attributes = Attributes::new();
/// attributes.put(&USER_ID, 42);
/// assert_eq!(attributes.get(&USER_ID), Some(&42));
/// ```
pub struct AttributeKey<T> {
    name: Cow<'static, str>,
    _type: PhantomData<fn() -> T>,
}

impl<T> AttributeKey<T> {
    /// A key named `name`; usable in constants.
    pub const fn new(name: &'static str) -> Self {
        AttributeKey { name: Cow::Borrowed(name), _type: PhantomData }
    }

    /// A key with a name made at run time.
    pub fn from_name(name: String) -> Self {
        AttributeKey { name: Cow::Owned(name), _type: PhantomData }
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<T> Clone for AttributeKey<T> {
    fn clone(&self) -> Self {
        AttributeKey { name: self.name.clone(), _type: PhantomData }
    }
}

impl<T> fmt::Debug for AttributeKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttributeKey<{}>('{}')", std::any::type_name::<T>(), self.name)
    }
}

/// A map of typed values under [`AttributeKey`]s: a call's, an application's, a route's.
///
/// A key is found by its name and its type together: a value stored under `AttributeKey<u64>::new("id")` is not
/// seen through `AttributeKey<String>::new("id")`.
///
/// A map holds a handful of attributes, so they are kept in a list searched by name: an empty map (a new call's)
/// costs no allocation and no hasher, and a lookup compares a few short names instead of hashing one.
#[derive(Default)]
pub struct Attributes {
    entries: Vec<Entry>,
}

struct Entry {
    name: Cow<'static, str>,
    type_id: TypeId,
    value: Box<dyn Any + Send + Sync>,
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

impl Attributes {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|entry| *entry.name == *name)
    }

    fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|entry| *entry.name == *name)
    }

    /// The value under `key`, if there is one of type `T`.
    pub fn get<T: Send + Sync + 'static>(&self, key: &AttributeKey<T>) -> Option<&T> {
        self.entry(key.name()).and_then(|entry| entry.value.downcast_ref::<T>())
    }

    /// The value under `key`, mutably.
    pub fn get_mut<T: Send + Sync + 'static>(&mut self, key: &AttributeKey<T>) -> Option<&mut T> {
        let index = self.position(key.name())?;
        self.entries[index].value.downcast_mut::<T>()
    }

    /// True if there is a value of type `T` under `key`.
    pub fn contains<T: Send + Sync + 'static>(&self, key: &AttributeKey<T>) -> bool {
        self.entry(key.name()).is_some_and(|entry| entry.type_id == TypeId::of::<T>())
    }

    /// Stores `value` under `key`, returning the value of type `T` it replaced.
    pub fn put<T: Send + Sync + 'static>(&mut self, key: &AttributeKey<T>, value: T) -> Option<T> {
        let (type_id, value): (_, Box<dyn Any + Send + Sync>) = (TypeId::of::<T>(), Box::new(value));
        match self.position(key.name()) {
            Some(index) => {
                let entry = &mut self.entries[index];
                entry.type_id = type_id;
                let old = std::mem::replace(&mut entry.value, value);
                old.downcast::<T>().ok().map(|value| *value)
            }
            None => {
                self.entries.push(Entry { name: key.name.clone(), type_id, value });
                None
            }
        }
    }

    /// Removes and returns the value under `key`.
    pub fn remove<T: Send + Sync + 'static>(&mut self, key: &AttributeKey<T>) -> Option<T> {
        let index = self.position(key.name())?;
        if self.entries[index].type_id != TypeId::of::<T>() {
            return None;
        }
        let entry = self.entries.swap_remove(index);
        entry.value.downcast::<T>().ok().map(|value| *value)
    }

    /// The value under `key`, stored first from `init` if there is none.
    pub fn compute_if_absent<T: Send + Sync + 'static>(
        &mut self,
        key: &AttributeKey<T>,
        init: impl FnOnce() -> T,
    ) -> &mut T {
        if !self.contains(key) {
            self.put(key, init());
        }
        self.get_mut(key).unwrap_or_else(|| unreachable!("stored just above"))
    }

    /// The names of every key present.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.entries.iter().map(|entry| &*entry.name)
    }

    /// True when no attribute is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_found_by_name_and_type() {
        let mut attributes = Attributes::new();
        let number = AttributeKey::<u32>::new("id");
        let text = AttributeKey::<String>::new("id");
        assert_eq!(attributes.put(&number, 7), None);
        assert_eq!(attributes.get(&number), Some(&7));
        assert_eq!(attributes.get(&text), None);
        assert!(!attributes.contains(&text));
        assert_eq!(attributes.remove(&text), None);
        assert_eq!(attributes.put(&number, 8), Some(7));
        *attributes.compute_if_absent(&number, || 0) += 1;
        assert_eq!(attributes.remove(&number), Some(9));
        assert!(attributes.is_empty());
        assert_eq!(*attributes.compute_if_absent(&text, || "new".into()), "new");
    }
}
