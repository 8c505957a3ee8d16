"""What every department generator shares: the folder, the random streams, the population
and the ground-truth collector."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from dizuo.demo import errors, strings
from dizuo.demo.people import Population
from dizuo.demo.truth import Truth

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]


@dataclass
class PersonFields:
    """A person's fields as one record holds them, errors planted, plus the error masks."""

    name: pa.Array
    resident_id: pa.Array
    phone: pa.Array
    masks: errors.Masks


@dataclass
class Context:
    """Shared state of one generation run."""

    folder: Path
    seed: int
    scale: float
    pop: Population
    truth: Truth

    def rng(self, name: str, *extra: int) -> np.random.Generator:
        """An independent PCG64 stream for ``name`` (stable across runs and versions)."""
        key = [self.seed, zlib.crc32(name.encode()), *extra]
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(key)))

    def rows(self, per_unit: int) -> int:
        """Row count at this scale: ``per_unit`` rows at scale 1, at least 1."""
        return max(1, round(per_unit * self.scale))

    def sample(
        self,
        rng: np.random.Generator,
        n: int,
        eligible: Bool,
        *,
        replace: bool = True,
        weight: npt.NDArray[np.float64] | None = None,
    ) -> I64:
        """``n`` person ids among ``eligible``.

        With replacement (people who recur), weighted by activity times ``weight``; without
        (a roll that lists everyone once), uniform, and at most everyone eligible.
        """
        pool = np.flatnonzero(eligible)
        if not replace:
            out: I64 = rng.choice(pool, min(n, len(pool)), replace=False)
            return out
        w = self.pop.activity[pool] * (1.0 if weight is None else weight[pool])
        cdf = np.cumsum(w)
        pick = np.searchsorted(cdf / cdf[-1], rng.random(n), "right")
        out = pool[np.minimum(pick, len(pool) - 1)]
        return out

    def person_fields(
        self,
        rng: np.random.Generator,
        persons: I64,
        id_kinds: tuple[str, ...] = errors.ID_KINDS,
    ) -> PersonFields:
        """Name, ID and phone of ``persons`` with planted errors."""
        pop = self.pop
        name, name_masks = errors.plant_names(rng, pop.name[persons])
        rid, id_masks = errors.plant_ids(
            rng, pop.id_digits[persons], pop.birth_year[persons], id_kinds
        )
        phone, phone_masks = errors.plant_phones(rng, pop.phone[persons], pop.sorted_phones())
        return PersonFields(
            strings.text(name), rid, phone, {**name_masks, **id_masks, **phone_masks}
        )

    def sex(self, persons: I64) -> pa.Array:
        """男/女 of each person."""
        return strings.take(["女", "男"], self.pop.male[persons].astype(np.int64))

    def true_ids(self, persons: I64) -> pa.Array:
        """The true 18-digit IDs."""
        return self.pop.resident_id.take(pa.array(persons))


def only(masks: errors.Masks, kinds: tuple[str, ...]) -> errors.Masks:
    """The masks of ``kinds`` only (the fields a record really holds)."""
    return {k: v for k, v in masks.items() if k in kinds}


def holiday_weights(start: np.datetime64, days: int) -> npt.NDArray[np.float64]:
    """Relative number of leisure trips per day: weekends, summer and public holidays."""
    day = start + np.arange(days).astype("timedelta64[D]")
    weekday = (day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    w = np.where(weekday >= 5, 1.4, 1.0)
    holidays = [
        ("2024-01-01", "2024-01-01", 1.6),
        ("2024-02-10", "2024-02-17", 2.2),  # 春节
        ("2024-04-04", "2024-04-06", 1.8),  # 清明
        ("2024-05-01", "2024-05-05", 2.4),  # 劳动节
        ("2024-06-08", "2024-06-10", 1.8),  # 端午
        ("2024-07-10", "2024-08-31", 1.3),  # 暑假
        ("2024-09-15", "2024-09-17", 1.8),  # 中秋
        ("2024-10-01", "2024-10-07", 3.0),  # 国庆
    ]
    for first, last, factor in holidays:
        inside = (day >= np.datetime64(first)) & (day <= np.datetime64(last))
        w = np.where(inside, factor, w)
    out: npt.NDArray[np.float64] = w
    return out


def not_before(rng: np.random.Generator, day: I64, birth_day: I64, days: int) -> I64:
    """Move days that fall before a birth (babies) to a random later day of the period."""
    late = day < birth_day
    span = np.maximum(days - birth_day, 1)
    moved = birth_day + np.floor(rng.random(len(day)) * span).astype(np.int64)
    out: I64 = np.where(late, np.minimum(moved, days - 1), day)
    return out
