"""Deterministic realistic Chinese names for demo data, benchmarks and generated rosters."""

import random

SURNAMES = (
    "陈周徐刘李王张杨黄赵吴曾彭谭罗邓胡何朱郭熊龙肖蒋唐龚汤夏易文姚贺"
    "谢袁梁宋郑孙戴钟段欧阳卜符丁毛廖孟"
)
GIVEN_MALE = "建国军伟强明华勇斌志平德福春海林涛松柏成刚辉峰文武庆腊清铁牛满仓立新"
GIVEN_FEMALE = "秀英桂兰春梅玉芳丽红霞艳娟凤琴翠莲美珍淑华菊香小燕巧云冬梅"


def random_name(rng: random.Random, gender: str) -> str:
    surname = rng.choice(SURNAMES[:-8]) if rng.random() < 0.97 else "欧阳"
    pool = GIVEN_MALE if gender == "M" else GIVEN_FEMALE
    length = 1 if rng.random() < 0.3 else 2
    return surname + "".join(rng.choice(pool) for _ in range(length))
