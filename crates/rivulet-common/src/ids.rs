//! Identifiers with Flink's textual form.
//!
//! Flink's `AbstractID` is 128 random bits printed as 32 lower-case hex characters;
//! `JobID`, `JobVertexID` and `TriggerId` are all of that kind. A TaskManager's
//! `ResourceID` is an arbitrary string.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::CommonError;

/// 128 bits, printed as 32 lower-case hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AbstractId(u128);

impl AbstractId {
    pub fn random() -> Self {
        AbstractId(rand::random::<u128>())
    }

    pub const fn from_u128(bits: u128) -> Self {
        AbstractId(bits)
    }

    pub fn as_u128(self) -> u128 {
        self.0
    }
}

impl fmt::Display for AbstractId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for AbstractId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for AbstractId {
    type Err = CommonError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid = s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !valid {
            return Err(CommonError::InvalidId(s.to_string()));
        }
        u128::from_str_radix(s, 16)
            .map(AbstractId)
            .map_err(|_| CommonError::InvalidId(s.to_string()))
    }
}

macro_rules! hex_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub AbstractId);

        impl $name {
            pub fn random() -> Self {
                $name(AbstractId::random())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = CommonError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

hex_id!(
    /// Flink's `JobID`.
    JobId
);
hex_id!(
    /// Flink's `JobVertexID`.
    JobVertexId
);
hex_id!(
    /// Flink's `TriggerId` of an asynchronous operation.
    TriggerId
);
hex_id!(
    /// Identifies one execution attempt of one subtask.
    ExecutionAttemptId
);
hex_id!(
    /// Flink's `AllocationID` of a slot.
    AllocationId
);

/// A TaskManager's `ResourceID`: an arbitrary string, e.g. `127.0.0.1:6122-a1b2c3`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResourceId(pub String);

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ids_round_trip_and_reject_malformed_text() {
        let id = JobId::random();
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(text.parse::<JobId>().unwrap(), id);
        assert!("not-a-job-id".parse::<JobId>().is_err());
        assert!("0000000000000000000000000000000g".parse::<JobId>().is_err());
        assert!("+0000000000000000000000000000000".parse::<JobId>().is_err());
        assert_eq!(
            "00000000000000000000000000000001"
                .parse::<JobId>()
                .unwrap()
                .0
                .as_u128(),
            1
        );
    }
}
