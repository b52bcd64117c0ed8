//! Prices and rating: a period's usage quantity times a plan's price gives invoice lines.
//! Pure and exact. Money is integer minor units of one ISO 4217 currency (cents for USD).
//! A unit price is a rational number of minor units, `amount` per `per` units (a tenth of
//! a cent a page is `1` per `10`). The only rounding is at a line, half to even, of that
//! line's exact value. All arithmetic is checked: an overflow is an error, never a wrap.
//!
//! A price is a monthly base fee, units included in it, and overage (the units past the
//! included ones) priced by one model:
//! - **per-unit**: every overage unit at one unit price;
//! - **graduated**: overage units fill the tiers in order, each priced at its tier's rate
//!   (plus the tier's flat fee once it is reached);
//! - **volume**: all overage units at the rate of the tier the overage falls in (plus that
//!   tier's flat fee);
//! - **package**: per started package of `size` units (rounded up).
//!
//! Tier bounds count overage units: with 1 000 included units and a first tier up to 500, the
//! first tier covers units 1 001 to 1 500 of the period.

use crate::{Code, DomainError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency code: three upper-case letters (`USD`, `EUR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl TryFrom<String> for Currency {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> Self {
        c.as_str().to_owned()
    }
}

impl Currency {
    /// Parses a code; anything but three ASCII letters is refused (lower case is raised).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let b = s.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_alphabetic) {
            return Err(DomainError::invalid(
                Code::InvalidMoney,
                "a currency is an ISO 4217 code of three letters",
            ));
        }
        Ok(Self([
            b[0].to_ascii_uppercase(),
            b[1].to_ascii_uppercase(),
            b[2].to_ascii_uppercase(),
        ]))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `amount` minor units per `per` units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitPrice {
    /// Minor units.
    pub amount: i64,
    /// Units they buy (at least 1).
    pub per: u64,
}

impl UnitPrice {
    /// `amount` minor units for each unit.
    pub const fn each(amount: i64) -> Self {
        Self { amount, per: 1 }
    }
}

/// One tier of a graduated or volume price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// The last overage unit this tier covers (inclusive); `None` for the last tier, which
    /// has no end.
    pub up_to: Option<u64>,
    /// The rate of its units.
    pub unit: UnitPrice,
    /// A flat fee, charged once when the tier is used.
    pub flat: i64,
}

/// How overage is priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Overage {
    /// Every overage unit at one price.
    PerUnit {
        /// The price.
        unit: UnitPrice,
    },
    /// Units fill the tiers in order, each at its tier's rate.
    Graduated {
        /// The tiers, in order.
        tiers: Vec<Tier>,
    },
    /// All units at the rate of the tier their count falls in.
    Volume {
        /// The tiers, in order.
        tiers: Vec<Tier>,
    },
    /// Per started package of `size` units.
    Package {
        /// Units in a package (at least 1).
        size: u64,
        /// Minor units a package costs.
        price: i64,
    },
}

/// A plan's price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    /// The currency of every amount.
    pub currency: Currency,
    /// Charged every period, usage or not.
    pub base_fee: i64,
    /// Units the base fee includes.
    pub included_units: u64,
    /// How the units past them are priced.
    pub overage: Overage,
}

/// What an invoice line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// The period's base fee.
    BaseFee,
    /// The units the base fee includes (amount 0).
    Included,
    /// Overage, in tier `tier` (0-based) for tiered prices.
    Overage {
        /// The tier, for graduated and volume prices.
        tier: Option<usize>,
    },
    /// Prepaid credit applied (a negative amount): added to an invoice after rating, never
    /// by [`Price::rate`].
    Credit,
}

impl LineKind {
    /// The wire name: `base_fee`, `included`, `overage` or `credit`.
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::BaseFee => "base_fee",
            LineKind::Included => "included",
            LineKind::Overage { .. } => "overage",
            LineKind::Credit => "credit",
        }
    }

    /// The tier (from 0) of a tiered price's overage line.
    pub fn tier(self) -> Option<usize> {
        match self {
            LineKind::Overage { tier } => tier,
            _ => None,
        }
    }
}

/// One line of a rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// What it is for.
    pub kind: LineKind,
    /// Units (packages, for a package price) it counts.
    pub quantity: u64,
    /// Minor units.
    pub amount: i64,
}

/// A rated period: its lines and their sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    /// The currency.
    pub currency: Currency,
    /// The lines, base fee first.
    pub lines: Vec<Line>,
    /// The sum of the lines' amounts.
    pub total: i64,
}

fn bad(detail: &str) -> DomainError {
    DomainError::invalid(Code::InvalidPlan, detail.to_owned())
}

fn overflow() -> DomainError {
    DomainError::invalid(
        Code::InvalidPlan,
        "the amount is too large to represent (an overflow, refused rather than wrapped)",
    )
}

/// `quantity × price`, the one rounding: half to even, at the line.
pub fn line_amount(quantity: u64, price: UnitPrice) -> Result<i64, DomainError> {
    if price.per == 0 {
        return Err(bad("a unit price is per at least one unit"));
    }
    let exact = i128::from(quantity)
        .checked_mul(i128::from(price.amount))
        .ok_or_else(overflow)?;
    let per = i128::from(price.per);
    let (q, r) = (exact.div_euclid(per), exact.rem_euclid(per));
    // Half to even: above half up, below down, exactly half to the even neighbour.
    let twice = r * 2;
    let rounded = if twice > per || (twice == per && q % 2 != 0) {
        q + 1
    } else {
        q
    };
    i64::try_from(rounded).map_err(|_| overflow())
}

impl Price {
    /// Checks the price: amounts not negative, unit prices per at least one unit, tiers
    /// ascending with only the last one open-ended, packages of at least one unit.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.base_fee < 0 {
            return Err(bad("the base fee cannot be negative"));
        }
        let unit = |u: &UnitPrice| {
            if u.amount < 0 || u.per == 0 {
                Err(bad("a unit price is not negative, per at least one unit"))
            } else {
                Ok(())
            }
        };
        match &self.overage {
            Overage::PerUnit { unit: u } => unit(u),
            Overage::Graduated { tiers } | Overage::Volume { tiers } => {
                if tiers.is_empty() {
                    return Err(bad("a tiered price needs at least one tier"));
                }
                let mut last = 0u64;
                for (i, t) in tiers.iter().enumerate() {
                    unit(&t.unit)?;
                    if t.flat < 0 {
                        return Err(bad("a tier's flat fee cannot be negative"));
                    }
                    match (t.up_to, i + 1 == tiers.len()) {
                        (None, true) => {}
                        (None, false) => return Err(bad("only the last tier is open-ended")),
                        (Some(_), true) => return Err(bad("the last tier must be open-ended")),
                        (Some(up), false) => {
                            if up == 0 || (i > 0 && up <= last) {
                                return Err(bad("tier bounds must rise from 1"));
                            }
                            last = up;
                        }
                    }
                }
                Ok(())
            }
            Overage::Package { size, price } => {
                if *size == 0 || *price < 0 {
                    Err(bad(
                        "a package has at least one unit and a price not negative",
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Rates `quantity` units of a period.
    pub fn rate(&self, quantity: u64) -> Result<Rating, DomainError> {
        self.validate()?;
        let mut lines = vec![
            Line {
                kind: LineKind::BaseFee,
                quantity: 1,
                amount: self.base_fee,
            },
            Line {
                kind: LineKind::Included,
                quantity: quantity.min(self.included_units),
                amount: 0,
            },
        ];
        let over = quantity.saturating_sub(self.included_units);
        if over > 0 {
            self.overage_lines(over, &mut lines)?;
        }
        let total = lines
            .iter()
            .try_fold(0i64, |sum, l| sum.checked_add(l.amount))
            .ok_or_else(overflow)?;
        Ok(Rating {
            currency: self.currency,
            lines,
            total,
        })
    }

    /// The most units a period can use while its rated total stays within `cap` minor units
    /// — and stayed within it at every smaller count, so a tenant stopped at a volume tier's
    /// bound is not let through again when the next tier's lower rate would fit. `None` when
    /// not even zero units fit (the base fee is above the cap); `u64::MAX` when no count
    /// passes it. A count whose amount overflows passes every cap.
    pub fn max_units_within(&self, cap: i64) -> Option<u64> {
        let passes = |q: u64| self.rate(q).map_or(true, |r| r.total > cap);
        if passes(0) {
            return None;
        }
        // The total never falls inside a segment: segments start at the first overage unit
        // and, for a volume price, at the first unit of each tier.
        let mut starts = vec![self.included_units.saturating_add(1)];
        if let Overage::Volume { tiers } = &self.overage {
            starts.extend(
                tiers
                    .iter()
                    .filter_map(|t| t.up_to)
                    .map(|up| self.included_units.saturating_add(up).saturating_add(1)),
            );
        }
        let mut lo = 0u64;
        for hi in starts
            .into_iter()
            .map(|s| s - 1)
            .chain(std::iter::once(u64::MAX))
        {
            if hi < lo {
                continue;
            }
            if passes(hi) {
                // The first count in [lo, hi] that passes; `lo` itself fits (checked below).
                if passes(lo) {
                    return lo.checked_sub(1);
                }
                let (mut fits, mut over) = (lo, hi);
                while over - fits > 1 {
                    let mid = fits + (over - fits) / 2;
                    if passes(mid) {
                        over = mid;
                    } else {
                        fits = mid;
                    }
                }
                return Some(fits);
            }
            if hi == u64::MAX {
                break;
            }
            lo = hi + 1;
        }
        Some(u64::MAX)
    }

    fn overage_lines(&self, over: u64, lines: &mut Vec<Line>) -> Result<(), DomainError> {
        let overage = |tier, quantity, amount| Line {
            kind: LineKind::Overage { tier },
            quantity,
            amount,
        };
        match &self.overage {
            Overage::PerUnit { unit } => lines.push(overage(None, over, line_amount(over, *unit)?)),
            Overage::Package { size, price } => {
                let packages = over.div_ceil(*size);
                let amount = i64::try_from(packages)
                    .ok()
                    .and_then(|p| p.checked_mul(*price))
                    .ok_or_else(overflow)?;
                lines.push(overage(None, packages, amount));
            }
            Overage::Graduated { tiers } => {
                let mut below = 0u64;
                for (i, t) in tiers.iter().enumerate() {
                    let top = t.up_to.map_or(over, |up| up.min(over));
                    if top <= below {
                        break;
                    }
                    let units = top - below;
                    let amount = line_amount(units, t.unit)?
                        .checked_add(t.flat)
                        .ok_or_else(overflow)?;
                    lines.push(overage(Some(i), units, amount));
                    below = top;
                }
            }
            Overage::Volume { tiers } => {
                let (i, t) = tiers
                    .iter()
                    .enumerate()
                    .find(|(_, t)| t.up_to.is_none_or(|up| over <= up))
                    .ok_or_else(|| bad("the last tier must be open-ended"))?;
                let amount = line_amount(over, t.unit)?
                    .checked_add(t.flat)
                    .ok_or_else(overflow)?;
                lines.push(overage(Some(i), over, amount));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("usd").unwrap()
    }

    fn price(overage: Overage) -> Price {
        Price {
            currency: usd(),
            base_fee: 5_000,
            included_units: 1_000,
            overage,
        }
    }

    fn tiers() -> Vec<Tier> {
        vec![
            Tier {
                up_to: Some(100),
                unit: UnitPrice::each(10),
                flat: 0,
            },
            Tier {
                up_to: None,
                unit: UnitPrice::each(5),
                flat: 0,
            },
        ]
    }

    #[test]
    fn half_to_even_at_the_line() {
        let half = UnitPrice { amount: 1, per: 2 };
        let cases = [(1, 0), (2, 1), (3, 2), (5, 2), (7, 4), (0, 0)];
        for (q, want) in cases {
            assert_eq!(line_amount(q, half).unwrap(), want, "{q} × ½");
        }
        let tenth = UnitPrice { amount: 1, per: 10 };
        assert_eq!(line_amount(14, tenth).unwrap(), 1);
        assert_eq!(line_amount(15, tenth).unwrap(), 2);
        assert_eq!(line_amount(16, tenth).unwrap(), 2);
        assert_eq!(line_amount(25, tenth).unwrap(), 2);
    }

    #[test]
    fn zero_usage_is_the_base_fee() {
        for p in [
            price(Overage::PerUnit {
                unit: UnitPrice::each(3),
            }),
            price(Overage::Graduated { tiers: tiers() }),
            price(Overage::Volume { tiers: tiers() }),
            price(Overage::Package {
                size: 1000,
                price: 700,
            }),
        ] {
            let r = p.rate(0).unwrap();
            assert_eq!(r.total, 5_000);
            assert_eq!(r.lines.len(), 2);
            assert_eq!(p.rate(1_000).unwrap().total, 5_000, "all included");
        }
    }

    #[test]
    fn tier_boundaries_and_one_unit_past() {
        let g = price(Overage::Graduated { tiers: tiers() });
        assert_eq!(g.rate(1_100).unwrap().total, 5_000 + 100 * 10);
        assert_eq!(g.rate(1_101).unwrap().total, 5_000 + 100 * 10 + 5);
        let v = price(Overage::Volume { tiers: tiers() });
        assert_eq!(v.rate(1_100).unwrap().total, 5_000 + 100 * 10);
        assert_eq!(v.rate(1_101).unwrap().total, 5_000 + 101 * 5);
    }

    #[test]
    fn volume_and_graduated_differ_on_the_same_quantity() {
        let q = 1_000 + 150;
        let g = price(Overage::Graduated { tiers: tiers() })
            .rate(q)
            .unwrap();
        let v = price(Overage::Volume { tiers: tiers() }).rate(q).unwrap();
        assert_eq!(g.total - 5_000, 100 * 10 + 50 * 5);
        assert_eq!(v.total - 5_000, 150 * 5);
        assert_eq!(g.lines.len(), 4, "base, included, two tiers");
        assert_eq!(v.lines.len(), 3, "base, included, one tier");
    }

    #[test]
    fn packages_round_up() {
        let p = price(Overage::Package {
            size: 1_000,
            price: 700,
        });
        for (over, packages) in [(1, 1), (999, 1), (1_000, 1), (1_001, 2), (2_500, 3)] {
            let r = p.rate(1_000 + over).unwrap();
            assert_eq!(r.lines[2].quantity, packages, "{over}");
            assert_eq!(r.total, 5_000 + 700 * packages as i64);
        }
    }

    #[test]
    fn flat_fees_apply_once_a_tier_is_reached() {
        let mut t = tiers();
        t[1].flat = 900;
        let g = price(Overage::Graduated { tiers: t.clone() });
        assert_eq!(g.rate(1_100).unwrap().total, 5_000 + 1_000);
        assert_eq!(g.rate(1_101).unwrap().total, 5_000 + 1_000 + 5 + 900);
        let v = price(Overage::Volume { tiers: t });
        assert_eq!(v.rate(1_101).unwrap().total, 5_000 + 101 * 5 + 900);
    }

    #[test]
    fn huge_quantities_are_an_error_not_a_wrap() {
        let p = price(Overage::PerUnit {
            unit: UnitPrice::each(i64::MAX),
        });
        assert!(p.rate(u64::MAX).is_err());
        let p = price(Overage::Package {
            size: 1,
            price: i64::MAX,
        });
        assert!(p.rate(1_000 + 2).is_err());
        let fine = price(Overage::PerUnit {
            unit: UnitPrice {
                amount: 1,
                per: 1_000,
            },
        });
        let r = fine.rate(u64::MAX).unwrap();
        assert_eq!(
            r.total,
            5_000
                + line_amount(
                    u64::MAX - 1_000,
                    UnitPrice {
                        amount: 1,
                        per: 1_000
                    }
                )
                .unwrap()
        );
    }

    #[test]
    fn units_within_a_cap() {
        let per_unit = price(Overage::PerUnit {
            unit: UnitPrice::each(10),
        });
        assert_eq!(
            per_unit.max_units_within(4_999),
            None,
            "the base fee alone passes"
        );
        assert_eq!(
            per_unit.max_units_within(5_000),
            Some(1_000),
            "all included"
        );
        assert_eq!(per_unit.max_units_within(5_009), Some(1_000));
        assert_eq!(per_unit.max_units_within(5_010), Some(1_001));
        assert_eq!(
            per_unit.max_units_within(i64::MAX),
            Some(1_000 + (i64::MAX as u64 - 5_000) / 10)
        );
        // Volume: 100 overage units at 10 cost 1 000; 101 at 5 cost 505. A cap of 999 over the
        // base stops at 1 099 even though 1 101 would fit again; one of 1 000 lets 1 100
        // through, and then the second tier up to 200 overage units (1 000).
        let volume = price(Overage::Volume { tiers: tiers() });
        assert_eq!(volume.max_units_within(5_000 + 999), Some(1_099));
        assert_eq!(volume.max_units_within(5_000 + 1_000), Some(1_200));
        let free = price(Overage::PerUnit {
            unit: UnitPrice::each(0),
        });
        assert_eq!(free.max_units_within(5_000), Some(u64::MAX));
    }

    #[test]
    fn prices_read_and_write_as_json() {
        let p = price(Overage::Graduated { tiers: tiers() });
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["currency"], "USD");
        assert_eq!(json["overage"]["model"], "graduated");
        assert_eq!(json["overage"]["tiers"][0]["up_to"], 100);
        let back: Price = serde_json::from_value(json).unwrap();
        assert_eq!(back, p);
        let bad = serde_json::json!({ "currency": "dollars", "base_fee": 1, "included_units": 0,
            "overage": { "model": "per_unit", "unit": { "amount": 1, "per": 1 } } });
        assert!(serde_json::from_value::<Price>(bad).is_err());
    }

    #[test]
    fn invalid_prices_are_refused() {
        let open_middle = vec![
            Tier {
                up_to: None,
                unit: UnitPrice::each(1),
                flat: 0,
            },
            Tier {
                up_to: None,
                unit: UnitPrice::each(1),
                flat: 0,
            },
        ];
        let falling = vec![
            Tier {
                up_to: Some(100),
                unit: UnitPrice::each(1),
                flat: 0,
            },
            Tier {
                up_to: Some(50),
                unit: UnitPrice::each(1),
                flat: 0,
            },
            Tier {
                up_to: None,
                unit: UnitPrice::each(1),
                flat: 0,
            },
        ];
        for overage in [
            Overage::PerUnit {
                unit: UnitPrice { amount: 1, per: 0 },
            },
            Overage::PerUnit {
                unit: UnitPrice::each(-1),
            },
            Overage::Graduated { tiers: vec![] },
            Overage::Graduated { tiers: open_middle },
            Overage::Volume { tiers: falling },
            Overage::Package { size: 0, price: 1 },
        ] {
            assert!(price(overage.clone()).validate().is_err(), "{overage:?}");
        }
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("U$D").is_err());
        assert_eq!(Currency::parse("eur").unwrap().as_str(), "EUR");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn unit() -> impl Strategy<Value = UnitPrice> {
            (0i64..10_000, 1u64..1_000).prop_map(|(amount, per)| UnitPrice { amount, per })
        }

        /// Two to four tiers with rising bounds, the last open-ended.
        fn tier_list() -> impl Strategy<Value = Vec<Tier>> {
            (
                prop::collection::vec((1u64..5_000, unit(), 0i64..1_000), 1..4),
                unit(),
            )
                .prop_map(|(steps, last)| {
                    let mut bound = 0;
                    let mut tiers: Vec<Tier> = steps
                        .into_iter()
                        .map(|(step, unit, flat)| {
                            bound += step;
                            Tier {
                                up_to: Some(bound),
                                unit,
                                flat,
                            }
                        })
                        .collect();
                    tiers.push(Tier {
                        up_to: None,
                        unit: last,
                        flat: 0,
                    });
                    tiers
                })
        }

        fn overage() -> impl Strategy<Value = Overage> {
            prop_oneof![
                unit().prop_map(|unit| Overage::PerUnit { unit }),
                tier_list().prop_map(|tiers| Overage::Graduated { tiers }),
                tier_list().prop_map(|tiers| Overage::Volume { tiers }),
                (1u64..5_000, 0i64..100_000)
                    .prop_map(|(size, price)| Overage::Package { size, price }),
            ]
        }

        fn any_price() -> impl Strategy<Value = Price> {
            (0i64..1_000_000, 0u64..100_000, overage()).prop_map(|(base, included, overage)| {
                Price {
                    currency: Currency::parse("USD").unwrap(),
                    base_fee: base,
                    included_units: included,
                    overage,
                }
            })
        }

        proptest! {
            /// The total is the sum of the lines; the lines count every unit exactly once.
            #[test]
            fn totals_are_the_sum_of_their_lines(p in any_price(), q in 0u64..10_000_000) {
                let r = p.rate(q).unwrap();
                prop_assert_eq!(r.total, r.lines.iter().map(|l| l.amount).sum::<i64>());
                let over = q.saturating_sub(p.included_units);
                let counted: u64 = r.lines.iter().filter_map(|l| match l.kind {
                    LineKind::Overage { .. } => Some(l.quantity),
                    _ => None,
                }).sum();
                match p.overage {
                    Overage::Package { size, .. } => prop_assert_eq!(counted, over.div_ceil(size)),
                    _ => prop_assert_eq!(counted, over),
                }
                prop_assert!(r.lines.iter().all(|l| l.amount >= 0));
            }

            /// One more unit never costs less, except across a volume tier's bound (that is
            /// what volume pricing is).
            #[test]
            fn more_usage_never_costs_less(p in any_price(), q in 0u64..1_000_000) {
                prop_assume!(!matches!(p.overage, Overage::Volume { .. }));
                prop_assert!(p.rate(q + 1).unwrap().total >= p.rate(q).unwrap().total);
            }

            /// Graduated with one open tier is per-unit at that tier's rate.
            #[test]
            fn one_graduated_tier_is_per_unit(u in unit(), q in 0u64..10_000_000) {
                let graduated = price(Overage::Graduated { tiers: vec![Tier { up_to: None, unit: u, flat: 0 }] });
                let per_unit = price(Overage::PerUnit { unit: u });
                prop_assert_eq!(graduated.rate(q).unwrap().total, per_unit.rate(q).unwrap().total);
            }

            /// The cap's unit count is exact: every count up to it fits, the next one passes
            /// (checked against a scan of every count for small prices).
            #[test]
            fn the_units_within_a_cap_are_exact(
                base in 0i64..2_000,
                included in 0u64..300,
                overage in overage(),
                cap in 0i64..40_000,
            ) {
                let p = Price { currency: Currency::parse("USD").unwrap(), base_fee: base, included_units: included, overage };
                let scanned = (0u64..200_000).find(|&q| p.rate(q).unwrap().total > cap);
                let got = p.max_units_within(cap);
                match scanned {
                    Some(0) => prop_assert_eq!(got, None),
                    Some(first) => prop_assert_eq!(got, Some(first - 1)),
                    None => prop_assert!(got.is_some_and(|g| g >= 200_000)),
                }
            }

            /// Rating never panics or wraps: a quantity too large for its price is an error.
            #[test]
            fn any_quantity_rates_or_is_refused(p in any_price(), q in any::<u64>()) {
                if let Ok(r) = p.rate(q) {
                    prop_assert!(r.total >= p.base_fee);
                }
            }
        }
    }
}
