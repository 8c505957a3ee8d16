"""The latent population: persons, couples, children and households, all drawn with NumPy.

Ages follow a census-shaped pyramid (0–89). Adults are paired into couples by age rank;
each child (under 18) is given to a couple whose husband is 24–38 years older and takes the
father's surname (sometimes the mother's) and ethnicity. Couples and their children share a
household and its home address; everyone else lives alone. IDs carry the code of the place
of registration valid in the birth year (see :mod:`dizuo.demo.places`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from dizuo.demo import ids, places, strings, vocab

REFERENCE_DATE = np.datetime64("2024-12-31")  # "today" for the demo city: ages, data years
REFERENCE_YEAR = 2024
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]


@dataclass
class Population:
    """Persons and their true attributes (index = person_id)."""

    name: npt.NDArray[np.str_]  # <U4
    surname: npt.NDArray[np.str_]
    male: Bool
    birth: npt.NDArray[np.datetime64]  # datetime64[D]
    age: I64  # whole years on REFERENCE_DATE
    ethnicity: I64  # index into vocab.ETHNICITIES
    region: I64  # the ID's division code (birthplace / first registration)
    id_digits: npt.NDArray[np.uint8]  # (n, 18)
    resident_id: pa.Array  # string
    phone: I64  # 0 where the person has no mobile
    household: I64  # 0 … households-1
    district: I64  # index into places.DISTRICTS (home)
    household_address: pa.Array  # home address of each household (string)
    spouse: I64  # -1 when none
    father: I64
    mother: I64
    activity: npt.NDArray[np.float64]  # how often the person shows up in records
    _sorted_phones: I64 | None = None

    @property
    def n(self) -> int:
        """Number of persons."""
        return len(self.name)

    @property
    def birth_year(self) -> I64:
        """Year of birth."""
        return self.birth.astype("datetime64[Y]").astype(np.int64) + 1970

    def has_phone(self) -> Bool:
        """Who has a mobile number."""
        out: Bool = self.phone > 0
        return out

    def address(self, persons: I64 | None = None) -> pa.Array:
        """Home addresses of ``persons`` (of everyone when None)."""
        index = self.household if persons is None else self.household[persons]
        return self.household_address.take(pa.array(index))

    def sorted_phones(self) -> I64:
        """Every mobile number of the population, sorted."""
        if self._sorted_phones is None:
            self._sorted_phones = np.sort(self.phone[self.phone > 0])
        return self._sorted_phones

    def relative(self) -> I64:
        """A household member for each person (spouse, else a parent), or -1."""
        out = np.where(self.spouse >= 0, self.spouse, self.father)
        out = np.where(out >= 0, out, self.mother)
        return out


def _choice(rng: np.random.Generator, n: int, weights: npt.ArrayLike) -> I64:
    w = np.asarray(weights, dtype=np.float64)
    out: I64 = rng.choice(len(w), n, p=w / w.sum())
    return out


def _ages(rng: np.random.Generator, n: int) -> I64:
    band = _choice(rng, n, vocab.AGE_BANDS)
    out: I64 = band * 5 + rng.integers(0, 5, n)
    return out


def _given_names(rng: np.random.Generator, male: Bool, born: I64) -> npt.NDArray[np.str_]:
    n = len(male)
    old_m, old_f = vocab.old_given_names()
    pools = {
        True: (np.array(old_m), np.array(list(vocab.MODERN_MALE_CHARS))),
        False: (np.array(old_f), np.array(list(vocab.MODERN_FEMALE_CHARS))),
    }
    out = np.empty(n, dtype="<U2")
    for sex, (old, modern) in pools.items():
        idx = np.flatnonzero(male == sex)
        k = len(idx)
        first = modern[rng.integers(0, len(modern), k)]
        second = modern[rng.integers(0, len(modern), k)]
        two = np.strings.add(first, second)
        composed = np.where(rng.random(k) < 0.75, two, first)
        traditional = old[rng.integers(0, len(old), k)]
        use_old = rng.random(k) < np.where(born[idx] < 1980, 0.6, 0.15)
        out[idx] = np.where(use_old, traditional, composed)
    return out


def _couples(rng: np.random.Generator, male: Bool, age: I64) -> tuple[I64, I64]:
    """Pair adults into couples of similar age; returns (husbands, wives)."""
    p_married = np.select([age < 22, age < 30, age < 65], [0.0, 0.45, 0.85], 0.72)
    married = rng.random(len(age)) < p_married
    men = np.flatnonzero(married & male)
    women = np.flatnonzero(married & ~male)
    k = min(len(men), len(women))
    men = np.sort(rng.choice(men, k, replace=False))
    women = np.sort(rng.choice(women, k, replace=False))
    men = men[np.argsort(age[men] + rng.normal(0, 1.5, k), kind="stable")]
    women = women[np.argsort(age[women] + 2 + rng.normal(0, 1.5, k), kind="stable")]
    return men, women


def _parents(rng: np.random.Generator, age: I64, husbands: I64) -> tuple[I64, I64]:
    """For each child (< 18): a couple index, chosen among husbands of the right age."""
    children = np.flatnonzero(age < 18)
    order = np.argsort(age[husbands], kind="stable")
    sorted_age = age[husbands][order]
    target = age[children] + rng.integers(24, 39, len(children))
    lo = np.searchsorted(sorted_age, target, "left")
    hi = np.searchsorted(sorted_age, target, "right")
    span = hi - lo
    pick = lo + np.floor(rng.random(len(children)) * np.maximum(span, 1)).astype(np.int64)
    pick = np.clip(np.where(span > 0, pick, lo), 0, len(husbands) - 1)
    return children, order[pick]


def _region_codes(
    rng: np.random.Generator, born: I64, local: Bool, birth_district: I64, ethnicity: I64
) -> I64:
    """Division code of each ID, valid in the person's birth year."""
    n = len(born)
    region = np.zeros(n, dtype=np.int64)
    for d in places.DISTRICTS:  # locals: walk the district's code history
        di = places.DISTRICTS.index(d)
        for code, first, last in reversed(d.history):  # older periods first, newer win
            hit = local & (birth_district == di) & (born >= first) & (born <= last)
            region[hit] = code
    outside = np.flatnonzero(~local)
    codes = np.array([o.code for o in places.ORIGINS], dtype=np.int64)
    starts = np.array([o.first for o in places.ORIGINS])
    ends = np.array([o.last for o in places.ORIGINS])
    weight = np.array([o.weight for o in places.ORIGINS])
    eth_names = [e for e, _ in vocab.ETHNICITIES]
    tag = np.array([eth_names.index(o.ethnic) if o.ethnic else -1 for o in places.ORIGINS])
    u = rng.random(len(outside))
    homeland = rng.random(len(outside)) < 0.8  # minorities mostly come from their homeland
    key = born[outside] * 100 + ethnicity[outside]
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(sorted_key)) + 1, [len(order)]])
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):  # one (birth year, ethnicity)
        if lo == hi:
            continue
        year, eth = divmod(int(sorted_key[lo]), 100)
        valid = (starts <= year) & (ends >= year)
        rows = order[lo:hi]
        w_home = np.where(valid & (tag == eth), weight, 0.0)
        use_home = homeland[rows] & (w_home.sum() > 0)
        for w, mask in ((w_home, use_home), (np.where(valid & (tag < 0), weight, 0.0), ~use_home)):
            if mask.any():
                pick = np.searchsorted(np.cumsum(w) / w.sum(), u[rows[mask]], "right")
                region[outside[rows[mask]]] = codes[np.minimum(pick, len(codes) - 1)]
    return region


def _addresses(rng: np.random.Generator, district: I64) -> pa.Array:
    """Home addresses: 成都市 + division + road + number (+ building, unit, room)."""
    n = len(district)
    roads = [(d.name, r) for d in places.DISTRICTS for r in d.roads]
    first_road = np.cumsum([0] + [len(d.roads) for d in places.DISTRICTS])
    counts = np.diff(first_road)
    road = first_road[district] + np.floor(rng.random(n) * counts[district]).astype(np.int64)
    number = rng.integers(1, 400, n)
    building = rng.integers(1, 21, n)
    unit = rng.integers(1, 5, n)
    room = rng.integers(1, 33, n) * 100 + rng.integers(1, 5, n)
    main = strings.join(
        [
            places.CITY,
            strings.take([d for d, _ in roads], road),
            strings.take([r for _, r in roads], road),
            strings.num(number),
            "号",
        ]
    )
    flat = strings.join(
        [main, strings.num(building), "栋", strings.num(unit), "单元", strings.num(room), "室"]
    )
    annex = strings.join([main, "附", strings.num(rng.integers(1, 30, n)), "号"])
    use_annex = pa.array(rng.random(n) < 0.12)
    return pc.if_else(use_annex, annex, flat)


def build_population(rng: np.random.Generator, n: int) -> Population:
    """Draw ``n`` persons with households, IDs, phones and addresses."""
    age = _ages(rng, n)
    male = rng.random(n) < np.where(age >= 70, 0.45, 0.51)
    birth = REFERENCE_DATE - (age * 365.25 + rng.random(n) * 365.0).astype("timedelta64[D]")
    born = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    age = REFERENCE_YEAR - born  # exact: the reference date is 31 December
    names, weights = vocab.surnames()
    surname = np.array(names)[_choice(rng, n, weights)]
    given = _given_names(rng, male, born)
    ethnicity = _choice(rng, n, [w for _, w in vocab.ETHNICITIES])

    husbands, wives = _couples(rng, male, age)
    spouse = np.full(n, -1, dtype=np.int64)
    spouse[husbands], spouse[wives] = wives, husbands
    children, couple = _parents(rng, age, husbands)
    father = np.full(n, -1, dtype=np.int64)
    mother = np.full(n, -1, dtype=np.int64)
    father[children], mother[children] = husbands[couple], wives[couple]
    from_mother = rng.random(len(children)) < 0.08
    surname[children] = np.where(from_mother, surname[mother[children]], surname[father[children]])
    ethnicity[children] = ethnicity[father[children]]

    head = np.arange(n, dtype=np.int64)  # singles live alone …
    head[wives] = husbands  # … couples in the husband's household, children too
    head[children] = husbands[couple]
    _, household = np.unique(head, return_inverse=True)
    district_weight = [d.population for d in places.DISTRICTS]
    home = _choice(rng, int(household.max()) + 1, district_weight)
    district = home[household]
    household_address = _addresses(rng, home)

    local = rng.random(n) < np.where(age < 18, 0.93, 0.55)
    same = rng.random(n) < np.where(age < 18, 0.85, 0.5)
    birth_district = np.where(same, district, _choice(rng, n, district_weight))
    region = _region_codes(rng, born, local, birth_district, ethnicity)

    days = birth.astype(np.int64)
    year, month, day = strings.ymd(birth)
    sequence = ids.id_sequences(rng, region, days, male)
    id_digits = ids.resident_ids(region, year, month, day, sequence)

    p_phone = np.select([age < 12, age < 16, age < 80], [0.0, 0.3, 0.98], 0.7)
    has_phone = rng.random(n) < p_phone
    phone = np.zeros(n, dtype=np.int64)
    phone[has_phone] = ids.mobiles(rng, int(has_phone.sum()))

    return Population(
        name=np.strings.add(surname, given),
        surname=surname,
        male=male,
        birth=birth,
        age=age,
        ethnicity=ethnicity,
        region=region,
        id_digits=id_digits,
        resident_id=strings.text(strings.digits_text(id_digits)),
        phone=phone,
        household=household.astype(np.int64),
        district=district,
        household_address=household_address,
        spouse=spouse,
        father=father,
        mother=mother,
        activity=rng.lognormal(0.0, 0.8, n),
    )


def persons_table(pop: Population) -> pa.Table:
    """The ground-truth table of persons (truth/persons.parquet)."""
    eth = [e for e, _ in vocab.ETHNICITIES]
    district_codes = np.array([d.code for d in places.DISTRICTS], dtype=np.int64)
    phone = pa.array(np.where(pop.phone > 0, pop.phone, 0)).cast(pa.string())
    phone = pc.if_else(pa.array(pop.phone > 0), phone, pa.scalar(None, pa.string()))
    return pa.table(
        {
            "person_id": pa.array(np.arange(pop.n, dtype=np.int64)),
            "name": strings.text(pop.name),
            "surname": strings.text(pop.surname),
            "sex": strings.take(["女", "男"], pop.male.astype(np.int64)),
            "birth_date": pa.array(pop.birth),
            "age": pa.array(pop.age),
            "ethnicity": strings.take(eth, pop.ethnicity),
            "region_code": strings.num(pop.region),
            "resident_id": pop.resident_id,
            "resident_id_15": strings.text(strings.digits_text(ids.legacy15(pop.id_digits))),
            "mobile_phone": phone,
            "household_id": pa.array(pop.household),
            "district_code": strings.num(district_codes[pop.district]),
            "home_address": pop.address(),
            "spouse_id": _nullable(pop.spouse),
            "father_id": _nullable(pop.father),
            "mother_id": _nullable(pop.mother),
        }
    )


def _nullable(values: I64) -> pa.Array:
    return pa.array(values, mask=values < 0)
