//! How far a mail's sender can be trusted. The threat is account takeover by e-mail: anyone can
//! write any `From`, so a mail that merely claims to come from the player's address must never
//! be taken for the player (who may then ask for a password reset, a withdrawal to a new
//! account, a change of address). Only the receiving server's authentication of the sending
//! domain, as SES reports it in its receipt notification, lets `From` count.

use crate::mail::message::MailAddress;

vocabulary!(
    /// One check of SES's receipt notification (`spfVerdict`, `dkimVerdict`, `dmarcVerdict`,
    /// `spamVerdict`, `virusVerdict`), whose `status` SES writes in upper case
    /// ([`Verdict::of_ses`] reads it).
    Verdict {
        Pass => "pass",
        Fail => "fail",
        /// SES could not tell (for DMARC: the domain publishes no policy).
        Gray => "gray",
        ProcessingFailed => "processing_failed",
        /// The check is turned off for the receipt rule.
        Disabled => "disabled",
    }
);

impl Verdict {
    /// A `status` as SES writes it (`PASS`, `PROCESSING_FAILED`), in any case. The adapter maps
    /// an absent or unknown status to [`Verdict::Disabled`]: a check we did not get proves
    /// nothing.
    pub fn of_ses(status: &str) -> Option<Self> {
        Self::parse(&status.trim().to_ascii_lowercase())
    }
}

/// The verdicts of one mail's receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdicts {
    pub spf: Verdict,
    pub dkim: Verdict,
    pub dmarc: Verdict,
    pub spam: Verdict,
    pub virus: Verdict,
    /// Whether the caller has established that the domains SPF and DKIM passed for are aligned
    /// with `From`'s domain (the same organisational domain, as DMARC's relaxed alignment
    /// defines it, RFC 7489 section 3.1), for instance from the `Authentication-Results` SES
    /// put at the top of the stored mail. SES's `spfVerdict` checks the envelope sender's
    /// domain and its `dkimVerdict` any signature's: an attacker's own domain with SPF and DKIM
    /// set up passes both while `From` names the player. `false` when unknown, which leaves
    /// DMARC as the only proof.
    pub aligned: bool,
}

vocabulary!(
    /// Why a mail is set aside unread by the desk.
    QuarantineReason {
        Virus => "virus",
        Spam => "spam",
    }
);

vocabulary!(
    /// Why a mail's sender is not taken for the player.
    UnverifiedReason {
        /// No single valid `From`.
        NoSender => "no_sender",
        /// No address on file to compare with (an unknown sender, a player without one).
        NoAddressOnFile => "no_address_on_file",
        /// `From` is not the address on file.
        OtherAddress => "other_address",
        /// `From`'s domain publishes a DMARC policy and this mail fails it: spoofed, or sent
        /// through a service the domain did not authorise. Whatever SPF and DKIM said.
        DmarcFailed => "dmarc_failed",
        /// Neither a DMARC pass nor aligned SPF and DKIM passes.
        NotAuthenticated => "not_authenticated",
    }
);

/// What the desk may take a mail's sender for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Spam or a virus: kept aside, neither threaded nor answered.
    Quarantine(QuarantineReason),
    /// The player: `From` is their address on file and the sending domain is authenticated.
    Player,
    /// Someone: their mail is read, but it proves nothing of who they are, and it never stands
    /// for the player (no account change, no subject-only threading onto their ticket).
    Unverified(UnverifiedReason),
}

impl Trust {
    /// `from` is the mail's one `From` ([`crate::mail::message::InboundMail::from`]),
    /// `on_file` the address of the player the mail would speak for.
    pub fn of(
        from: Option<&MailAddress>,
        on_file: Option<&MailAddress>,
        verdicts: Verdicts,
    ) -> Trust {
        // A virus first: it is the worse of the two, and either sets the mail aside.
        if verdicts.virus == Verdict::Fail {
            return Trust::Quarantine(QuarantineReason::Virus);
        }
        if verdicts.spam == Verdict::Fail {
            return Trust::Quarantine(QuarantineReason::Spam);
        }
        let Some(from) = from else {
            return Trust::Unverified(UnverifiedReason::NoSender);
        };
        let Some(on_file) = on_file else {
            return Trust::Unverified(UnverifiedReason::NoAddressOnFile);
        };
        if from != on_file {
            return Trust::Unverified(UnverifiedReason::OtherAddress);
        }
        // A DMARC failure is final: SPF and DKIM passing beside it means they passed for some
        // other domain than From's, which is exactly what a spoof looks like.
        match verdicts.dmarc {
            Verdict::Fail => Trust::Unverified(UnverifiedReason::DmarcFailed),
            Verdict::Pass => Trust::Player,
            _ if verdicts.spf == Verdict::Pass
                && verdicts.dkim == Verdict::Pass
                && verdicts.aligned =>
            {
                Trust::Player
            }
            _ => Trust::Unverified(UnverifiedReason::NotAuthenticated),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(raw: &str) -> MailAddress {
        MailAddress::parse(raw).expect("valid")
    }

    /// A mail from a well-configured provider: every check passes.
    fn clean() -> Verdicts {
        Verdicts {
            spf: Verdict::Pass,
            dkim: Verdict::Pass,
            dmarc: Verdict::Pass,
            spam: Verdict::Pass,
            virus: Verdict::Pass,
            aligned: false,
        }
    }

    fn player() -> MailAddress {
        address("joueur@exemple.ca")
    }

    #[test]
    fn the_players_authenticated_mail_is_the_player() {
        let on_file = player();
        assert_eq!(
            Trust::of(Some(&address("Joueur@EXEMPLE.ca")), Some(&on_file), clean()),
            Trust::Player
        );
        let spf_fails_but_dmarc_passes_through_dkim = Verdicts {
            spf: Verdict::Fail,
            ..clean()
        };
        assert_eq!(
            Trust::of(
                Some(&player()),
                Some(&on_file),
                spf_fails_but_dmarc_passes_through_dkim
            ),
            Trust::Player
        );
    }

    #[test]
    fn without_dmarc_aligned_spf_and_dkim_passes_prove_the_player() {
        let no_policy = Verdicts {
            dmarc: Verdict::Gray,
            aligned: true,
            ..clean()
        };
        assert_eq!(
            Trust::of(Some(&player()), Some(&player()), no_policy),
            Trust::Player
        );
        for (spf, dkim) in [
            (Verdict::Pass, Verdict::Fail),
            (Verdict::Fail, Verdict::Pass),
            (Verdict::Gray, Verdict::Pass),
            (Verdict::Pass, Verdict::Disabled),
        ] {
            let half = Verdicts {
                spf,
                dkim,
                ..no_policy
            };
            assert_eq!(
                Trust::of(Some(&player()), Some(&player()), half),
                Trust::Unverified(UnverifiedReason::NotAuthenticated),
                "{spf:?} {dkim:?}"
            );
        }
    }

    #[test]
    fn a_spoofed_from_is_never_the_player() {
        // The attacker's own domain passes SPF and DKIM; From names the player.
        for dmarc in [Verdict::Gray, Verdict::ProcessingFailed, Verdict::Disabled] {
            let unaligned = Verdicts {
                dmarc,
                aligned: false,
                ..clean()
            };
            assert_eq!(
                Trust::of(Some(&player()), Some(&player()), unaligned),
                Trust::Unverified(UnverifiedReason::NotAuthenticated),
                "{dmarc:?}"
            );
        }
        // The player's domain publishes DMARC, and the spoof fails it, whatever else passed.
        let failed = Verdicts {
            dmarc: Verdict::Fail,
            aligned: true,
            ..clean()
        };
        assert_eq!(
            Trust::of(Some(&player()), Some(&player()), failed),
            Trust::Unverified(UnverifiedReason::DmarcFailed)
        );
    }

    #[test]
    fn another_address_or_none_is_unverified() {
        assert_eq!(
            Trust::of(
                Some(&address("joueur@exemple.com")),
                Some(&player()),
                clean()
            ),
            Trust::Unverified(UnverifiedReason::OtherAddress)
        );
        assert_eq!(
            Trust::of(None, Some(&player()), clean()),
            Trust::Unverified(UnverifiedReason::NoSender)
        );
        assert_eq!(
            Trust::of(Some(&player()), None, clean()),
            Trust::Unverified(UnverifiedReason::NoAddressOnFile)
        );
    }

    #[test]
    fn spam_and_viruses_are_quarantined_whoever_sent_them() {
        let spam = Verdicts {
            spam: Verdict::Fail,
            ..clean()
        };
        assert_eq!(
            Trust::of(Some(&player()), Some(&player()), spam),
            Trust::Quarantine(QuarantineReason::Spam)
        );
        let both = Verdicts {
            virus: Verdict::Fail,
            ..spam
        };
        assert_eq!(
            Trust::of(None, None, both),
            Trust::Quarantine(QuarantineReason::Virus)
        );
        // Only a failure quarantines: a scan that could not tell lets the mail through, to be
        // read with the care an unverified sender gets.
        for unsure in [Verdict::Gray, Verdict::ProcessingFailed, Verdict::Disabled] {
            let verdicts = Verdicts {
                spam: unsure,
                virus: unsure,
                ..clean()
            };
            assert_eq!(
                Trust::of(Some(&player()), Some(&player()), verdicts),
                Trust::Player
            );
        }
    }

    #[test]
    fn ses_statuses_are_read_in_any_case() {
        assert_eq!(Verdict::of_ses("PASS"), Some(Verdict::Pass));
        assert_eq!(
            Verdict::of_ses("PROCESSING_FAILED"),
            Some(Verdict::ProcessingFailed)
        );
        assert_eq!(Verdict::of_ses(" gray "), Some(Verdict::Gray));
        assert_eq!(Verdict::of_ses("UNKNOWN"), None);
        for verdict in Verdict::ALL {
            assert_eq!(
                Verdict::of_ses(&verdict.as_str().to_uppercase()),
                Some(*verdict)
            );
        }
    }
}
