//! The actor of a use case, as the domain sees it: who acts, with which roles and teams.

use serde::Serialize;

use crate::common::player::PlayerId;
use crate::tickets::ticket::Team;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Player,
    Agent,
    Supervisor,
    Verification,
    /// Decides cases past the resubmission cap.
    VerificationSenior,
    Service,
}

impl Role {
    pub fn parse(group: &str) -> Option<Role> {
        match group {
            "player" => Some(Role::Player),
            "agent" => Some(Role::Agent),
            "supervisor" => Some(Role::Supervisor),
            "verification" => Some(Role::Verification),
            "verification_senior" => Some(Role::VerificationSenior),
            "service" => Some(Role::Service),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Player => "player",
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Verification => "verification",
            Role::VerificationSenior => "verification_senior",
            Role::Service => "service",
        }
    }
}

/// Who is acting: a player, a staff member with roles and teams, or the system on behalf of a
/// schedule or a channel. The edge builds it (from verified claims, a schedule, a mail); use
/// cases decide with it and never see where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub subject: PlayerId,
    pub roles: Vec<Role>,
    /// The teams an agent works for: `team:<name>` groups, e.g. `[agent team:payments]`.
    pub teams: Vec<Team>,
    /// The token's `email` claim, where a player's notifications go. Redacted in `Debug`.
    pub email: Option<crate::common::contact::ContactAddress>,
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn require(&self, role: Role) -> Result<(), Forbidden> {
        if self.has(role) {
            Ok(())
        } else {
            Err(Forbidden { required: role })
        }
    }

    pub fn is_staff(&self) -> bool {
        self.has(Role::Agent) || self.has(Role::Supervisor)
    }

    /// Supervisors work on every team's tickets; agents on their own teams' only.
    pub fn works_for(&self, team: Team) -> bool {
        self.has(Role::Supervisor) || (self.has(Role::Agent) && self.teams.contains(&team))
    }

    /// The system acting on behalf of one of its doors (a schedule, a channel): a service
    /// actor, never a player's or a staff member's rights.
    pub fn system(door: SystemDoor) -> Self {
        Actor {
            subject: door.subject(),
            roles: vec![Role::Service],
            teams: Vec::new(),
            email: None,
        }
    }

    /// The entry of a ticket's history this actor writes: staff by their id, anyone else as
    /// the player or the system.
    pub fn author(&self) -> crate::common::player::Author {
        use crate::common::player::Author;
        if self.is_staff() {
            Author::Staff {
                id: self.subject.as_str().to_owned(),
            }
        } else if self.has(Role::Player) {
            Author::Player
        } else {
            Author::System
        }
    }
}

/// The system's doors: what acts when no person does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemDoor {
    /// A scheduled sweep (the outbox relay, SLA clocks).
    Schedule,
    /// A message that came in on a queue (a document check, a fan-out page).
    Queue,
}

impl SystemDoor {
    fn subject(self) -> PlayerId {
        let name = match self {
            SystemDoor::Schedule => "system-schedule",
            SystemDoor::Queue => "system-queue",
        };
        PlayerId::parse(name).unwrap_or_else(|| unreachable!("a fixed, valid subject"))
    }
}

/// The actor lacks the role a use case requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this needs the {} role", required.as_str())]
pub struct Forbidden {
    pub required: Role,
}
