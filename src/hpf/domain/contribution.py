"""月缴存额: monthly deposit amounts from base × ratio, and the months a remittance may cover.

The bounds are dated parameters the caller looks up for the month being paid (HPF_RULES
§1.2): ratio 5%–12% each side (条例 art. 18; 建金管〔2005〕5号), base from 当地最低工资 up
to 3 × 上年社平工资. The unit and the employee shares are rounded separately, each by the
centre's rounding unit and mode, and the total is their sum, so the two shares always add
up to what the remittance list shows.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

from hpf.domain.errors import ConfigError, ValidationFailed

CENT = Decimal("0.01")
# Parameter text → decimal rounding. ROUND_UP is away from zero, i.e. upwards for amounts.
ROUNDING_MODES = {"HALF_UP": ROUND_HALF_UP, "UP": ROUND_UP, "DOWN": ROUND_DOWN}
ROUNDING_UNITS = (Decimal("0.01"), Decimal("1"))  # 分 or whole 元
RATIO_LABELS = {"unit_ratio": "单位缴存比例", "person_ratio": "个人缴存比例"}


class RuleBroken(ValidationFailed):
    """A value breaks a collection rule; ``details`` names the field."""

    code = "rule_broken"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, details={field: [message]})
        self.field = field


@dataclass(frozen=True)
class ContributionRules:
    """The bounds in force for one month, built by the caller from dated parameters."""

    ratio_min: Decimal        # fraction: 0.05 = 5%
    ratio_max: Decimal
    base_floor: Decimal       # 当地最低工资
    base_cap: Decimal         # base_cap(上年社平工资, multiple)
    rounding_unit: Decimal = CENT
    rounding_mode: str = "HALF_UP"

    def __post_init__(self) -> None:
        # A centre enters each parameter separately; a floor above the cap would refuse every
        # remittance, so it is reported as the operator's configuration error, not the user's.
        if not Decimal(0) < self.ratio_min <= self.ratio_max < Decimal(1):
            raise ConfigError("缴存比例参数有误：应满足 0 < 比例下限 ≤ 比例上限 < 100%")
        if not Decimal(0) < self.base_floor <= self.base_cap:
            raise ConfigError("缴存基数参数有误：应满足 0 < 基数下限 ≤ 基数上限")
        if self.rounding_unit not in ROUNDING_UNITS:
            raise ConfigError("月缴存额取整单位应为 0.01（分）或 1（元）")
        if self.rounding_mode not in ROUNDING_MODES:
            raise ConfigError("月缴存额舍入方式应为 HALF_UP（四舍五入）、UP（进位）或 DOWN（舍去）")

    def round(self, amount: Decimal) -> Decimal:
        """``amount`` rounded by the centre's unit and mode, always shown with two decimals."""
        # Decimal("1.00") == Decimal("1") but quantizes to cents: use the canonical quantum.
        quantum = next(u for u in ROUNDING_UNITS if u == self.rounding_unit)
        return amount.quantize(quantum, ROUNDING_MODES[self.rounding_mode]).quantize(CENT)


@dataclass(frozen=True)
class MonthlyAmount:
    unit: Decimal     # 单位月缴存额
    person: Decimal   # 个人月缴存额
    total: Decimal    # unit + person, never rounded on its own


def base_cap(city_avg_wage: Decimal, multiple: Decimal) -> Decimal:
    """缴存基数上限 = multiple × 上年度设区城市职工月平均工资 (3 since 建金〔2018〕45号).

    Truncated to the fen: the rule is "不得高于", so the cap may never exceed the product.
    """
    wage = _as_decimal(city_avg_wage, "city_avg_wage", "上年度职工月平均工资")
    return (wage * _as_decimal(multiple, "multiple", "基数上限倍数")).quantize(CENT, ROUND_DOWN)


def check_ratio(value: Decimal, rules: ContributionRules, field: str = "unit_ratio") -> Decimal:
    """The ratio if it is within the band (bounds included); RuleBroken otherwise."""
    label = RATIO_LABELS.get(field, "缴存比例")
    value = _as_decimal(value, field, label)
    if not rules.ratio_min <= value <= rules.ratio_max:
        raise RuleBroken(field, f"{label} {_percent(value)} 超出允许范围 "
                                f"{_percent(rules.ratio_min)}–{_percent(rules.ratio_max)}")
    return value


def check_base(value: Decimal, rules: ContributionRules, field: str = "base") -> Decimal:
    """The base if it is in yuan and fen and within floor..cap (both included)."""
    value = _as_decimal(value, field, "缴存基数")
    if value < rules.base_floor:
        raise RuleBroken(field, f"缴存基数 {value:,.2f} 元低于下限 {rules.base_floor:,.2f} 元"
                                "（当地最低工资标准）")
    if value > rules.base_cap:
        raise RuleBroken(field, f"缴存基数 {value:,.2f} 元高于上限 {rules.base_cap:,.2f} 元"
                                "（上年度职工月平均工资的规定倍数）")
    # Checked after the bounds, so quantize never meets a number too long for the context.
    if value != value.quantize(CENT):
        raise RuleBroken(field, f"缴存基数 {value} 最多保留两位小数（元、角、分）")
    return value


def monthly_amount(base: Decimal, unit_ratio: Decimal, person_ratio: Decimal,
                   rules: ContributionRules) -> MonthlyAmount:
    """月缴存额: each share = base × its ratio, rounded on its own; total = unit + person."""
    base = check_base(base, rules)
    unit = rules.round(base * check_ratio(unit_ratio, rules, "unit_ratio"))
    person = rules.round(base * check_ratio(person_ratio, rules, "person_ratio"))
    return MonthlyAmount(unit, person, unit + person)


def _as_decimal(value: object, field: str, label: str) -> Decimal:
    # float has no place in a money path (0.1 + 0.2); NaN would compare false to every bound.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{field} must be a Decimal, not {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite():
        raise RuleBroken(field, f"{label}应为有效数值")
    return number


def _percent(ratio: Decimal) -> str:
    return f"{format((ratio * 100).normalize(), 'f')}%"


# --- 缴至年月 (JZNY): months as YYYYMM ----------------------------------------------------------

@dataclass(frozen=True, order=True)
class YearMonth:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1 <= self.month <= 12 and 1 <= self.year <= 9999):
            raise ValueError(f"no such month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str, field: str = "month") -> YearMonth:
        """"202611" → YearMonth(2026, 11); RuleBroken for anything else."""
        raw = unicodedata.normalize("NFKC", text or "").strip()  # full-width digits from an IME
        if (len(raw) != 6 or not raw.isascii() or not raw.isdigit() or int(raw[:4]) == 0
                or not 1 <= int(raw[4:]) <= 12):
            raise RuleBroken(field, f"年月“{raw}”格式错误，应为6位数字 YYYYMM，如 202611")
        return cls(int(raw[:4]), int(raw[4:]))

    @classmethod
    def of(cls, day: date) -> YearMonth:
        return cls(day.year, day.month)

    @property
    def index(self) -> int:
        """Months since January of year 0: differences give month counts."""
        return self.year * 12 + self.month - 1

    def plus(self, months: int) -> YearMonth:
        year, month0 = divmod(self.index + months, 12)
        return YearMonth(year, month0 + 1)

    def next(self) -> YearMonth:
        return self.plus(1)

    def prev(self) -> YearMonth:
        return self.plus(-1)

    def __str__(self) -> str:
        return f"{self.year:04d}{self.month:02d}"


def months_between(start: YearMonth, end: YearMonth) -> int:
    """How many months ``end`` is after ``start`` (negative when before): 202601→202612 is 11."""
    return end.index - start.index


def check_remittance_month(month: YearMonth, paid_up_to: YearMonth | None, today: date,
                           field: str = "month") -> YearMonth:
    """The month a 汇缴 may cover: the one after 缴至年月, never a future month.

    ``paid_up_to`` is None for a new unit's first remittance, which may start at any month
    not in the future (a unit registered late pays from its first month of wages). Months
    skipped or already paid are 补缴's business, not 汇缴's.
    """
    current = YearMonth.of(today)
    if paid_up_to is not None and month <= paid_up_to:
        raise RuleBroken(field, f"{month} 该月已缴存（缴至年月 {paid_up_to}）")
    if month > current:
        raise RuleBroken(field, f"不能缴存未来月份（{month} 晚于当前月份 {current}）")
    if paid_up_to is not None and month > paid_up_to.next():
        raise RuleBroken(field, f"须先缴存 {paid_up_to.next()}（缴至年月的下一个月）")
    return month
