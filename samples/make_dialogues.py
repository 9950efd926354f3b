#!/usr/bin/env python3
"""Writes the bundled chat fine-tuning samples (samples/dialogues/): customer-support exchanges in English and Chinese,
in the same world as the pretraining corpus (samples/make_samples.py: the same items, cities and kinds of request), so
pretraining on samples/text/support.txt helps fine-tuning on these.

Every question has several paraphrases, each optionally wrapped in a greeting and a closing. The answer depends only on
the intent, the paraphrase (each paraphrase pairs with one answer phrasing), the slots copied from the question (order
number, item, city) and facts fixed per city (delivery days), plus the customer's name when a system prompt gives it.
Greetings and closings never change the answer. test.jsonl holds out (greeting, closing) wrappings and slot combinations
that train.jsonl never shows, so its answers are learnable but its questions are new.

Files: train.jsonl and test.jsonl ({"input", "output"}, some with "system"), multiturn.jsonl ({"messages": [...]}),
transcript.txt (lines starting "<user> " and "<bot> ", conversations separated by a blank line). Fixed seed."""
import json
import random

rng = random.Random(2027)
names = ["Alice", "Bob", "Chen Wei", "Dana", "Emma", "Farid", "Grace", "Hiro", "Ivan", "Julia", "Kofi", "Lena", "Mia", "Noah", "Omar", "Priya"]
items = ["blue backpack", "coffee grinder", "desk lamp", "pair of running shoes", "wireless mouse", "rain jacket", "tea kettle",
         "phone case", "yoga mat", "water bottle", "mechanical keyboard", "winter scarf", "travel mug", "bluetooth speaker"]
cities = ["Berlin", "Shanghai", "Toronto", "Nairobi", "Lima", "Osaka", "Madrid", "Sydney", "Chicago", "Hangzhou"]
# A fact the model can learn per city: standard shipping time.
city_days = {c: ["two", "three", "four", "five", "six"][i % 5] for i, c in enumerate(cities)}
items_zh = ["蓝色背包", "咖啡研磨机", "台灯", "跑鞋", "无线鼠标", "雨衣", "水壶", "手机壳", "瑜伽垫", "保温杯"]
cities_zh = ["上海", "北京", "杭州", "广州", "深圳", "成都", "南京", "武汉"]
city_days_zh = {c: ["两", "三", "四", "五"][i % 4] for i, c in enumerate(cities_zh)}
names_zh = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊"]

def order():
    return f"{rng.randint(10000, 99999)}"

# intent -> (question paraphrases, answer phrasings); answer phrasing j goes with question paraphrase j % len(answers).
# Slots: {o} order, {it} item, {c} city, {d} delivery days of {c}; {n} is the name prefix ("Alice, " or "").
EN = {
    "status": ([
        "I want to check the status of my order {o}.",
        "Where is my order {o}?",
        "Can you tell me what happened to order {o}?",
        "Has order {o} shipped yet?",
        "Any news on my order number {o}?",
    ], [
        "Thank you. Order {o} has shipped and should arrive within {d} days.",
        "Order {o} is on its way and should arrive within {d} days.",
    ]),
    "return": ([
        "My {it} arrived broken. Can I return it?",
        "The {it} I received is damaged. What can I do?",
        "I got a broken {it}. Can I send it back?",
        "Can I return a {it} that arrived broken?",
    ], [
        "I am sorry to hear that. You can return the {it} within 30 days and we will send a new one for free.",
        "Sorry about that. Send the {it} back within 30 days and we will replace it for free.",
    ]),
    "shipping": ([
        "How long does shipping to {c} take?",
        "How many days does delivery to {c} take?",
        "If I order now, when will it arrive in {c}?",
        "What is the delivery time to {c}?",
    ], [
        "Standard shipping to {c} takes {d} days. Express shipping is one day faster.",
        "Delivery to {c} takes {d} days with standard shipping.",
    ]),
    "password": ([
        "I forgot my password and cannot log in.",
        "I can't log in because I lost my password.",
        "How do I reset my password?",
    ], [
        "No problem. Click \"Forgot password\" on the login page and we will email you a reset link.",
        "Click \"Forgot password\" on the login page and we will email you a reset link.",
        "No problem. Use \"Forgot password\" on the login page and check your email for a reset link.",
    ]),
    "address": ([
        "Can I change the address for order {o}? I moved to {c}.",
        "Please send order {o} to my new address in {c}.",
        "I need order {o} delivered to {c} instead.",
    ], [
        "Yes. Order {o} has not shipped yet, so I have changed the address to {c} for you.",
        "Done. Order {o} will now be delivered to {c}.",
    ]),
    "stock": ([
        "Do you have the {it} in stock?",
        "Is the {it} available right now?",
        "Can I still buy the {it}?",
        "Is the {it} sold out?",
    ], [
        "Yes, the {it} is in stock. If you order today it ships tomorrow.",
        "The {it} is in stock and ships the day after you order.",
    ]),
    "charge": ([
        "I was charged twice for order {o}.",
        "My card was billed two times for order {o}.",
        "There are two charges for order {o} on my statement.",
    ], [
        "I am sorry. I have refunded the second charge for order {o}. You will see it in three to five business days.",
        "Sorry about that. The extra charge for order {o} is refunded and will show in three to five business days.",
    ]),
    "thanks": ([
        "Thank you for your help!",
        "Thanks a lot, that solved it.",
        "Great, thank you!",
    ], [
        "You are welcome. Have a great day!",
        "Happy to help. Have a great day!",
    ]),
}
ZH = {
    "status": ([
        "我想查询我的订单状态，订单号是{o}。",
        "我的订单{o}到哪里了？",
        "订单{o}发货了吗？",
    ], [
        "您的订单{o}已经发货，预计{d}天内送达。",
        "订单{o}已在路上，预计{d}天内送达。",
    ]),
    "return": ([
        "我收到的{it}坏了，可以退货吗？",
        "{it}到货就是坏的，怎么办？",
        "我买的{it}有损坏，能退吗？",
    ], [
        "非常抱歉。您可以在三十天内退货，我们会免费为您换一个新的{it}。",
        "很抱歉给您带来不便。请在三十天内寄回{it}，我们免费换新。",
    ]),
    "shipping": ([
        "寄到{c}需要多长时间？",
        "发货到{c}要几天？",
        "现在下单，什么时候能到{c}？",
    ], [
        "寄到{c}一般需要{d}天，加急快递快一天。",
        "普通快递寄到{c}需要{d}天。",
    ]),
    "password": ([
        "我忘记密码了，怎么办？",
        "登录不了，密码忘了。",
        "怎么重置密码？",
    ], [
        "请在登录页面点击“忘记密码”，我们会把重置链接发到您的邮箱。",
    ]),
    "thanks": ([
        "谢谢你的帮助！",
        "好的，谢谢！",
    ], [
        "不客气，祝您生活愉快！",
        "很高兴能帮到您，祝您生活愉快！",
    ]),
}
EN_OPEN = ["", "Hi, ", "Hello, ", "Hi there. ", "Good morning. ", "Hey, "]
EN_CLOSE = ["", " Thanks.", " Please help.", " Thank you!"]
ZH_OPEN = ["", "你好，", "您好，", "在吗？"]
ZH_CLOSE = ["", "谢谢。", "麻烦了。"]

def held_out_wrap(lang, a, b):
    """(greeting, closing) pairs kept for the test set: one in four of the combinations."""
    return (a * 7 + b * 3 + (1 if lang == "zh" else 0)) % 4 == 0

def held_out_slots(intent, question, it, c):
    """Slot combinations kept for the test set: about one in seven (intent, item, city) combinations the question uses."""
    used = [s for s, k in ((it, "{it}"), (c, "{c}")) if k in question]
    return bool(used) and hash_str("|".join([intent] + used)) % 7 == 0

def hash_str(s):
    h = 2166136261
    for ch in s.encode("utf-8"):
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h

def exchange(lang, held_out, name=None):
    """One (input, output) pair, the answer addressing the customer by name when one is given; held_out selects the
    test distribution."""
    table = ZH if lang == "zh" else EN
    intent = rng.choice(list(table))
    questions, answers = table[intent]
    q = rng.randrange(len(questions))
    opens, closes = (ZH_OPEN, ZH_CLOSE) if lang == "zh" else (EN_OPEN, EN_CLOSE)
    while True:
        it = rng.choice(items_zh if lang == "zh" else items)
        c = rng.choice(cities_zh if lang == "zh" else cities)
        a, b = rng.randrange(len(opens)), rng.randrange(len(closes))
        wrap_out = held_out_wrap(lang, a, b)
        if held_out == (wrap_out or held_out_slots(intent, questions[q], it, c)):
            break
    o = order()
    d = (city_days_zh if lang == "zh" else city_days)[c]
    slots = dict(o=o, it=it, c=c, d=d)
    question = questions[q].format(**slots)
    if opens[a].endswith(", ") and not question.startswith("I "):
        question = question[0].lower() + question[1:]
    answer = answers[q % len(answers)].format(**slots)
    if name and lang == "en":
        answer = f"{name}, " + (answer if answer.startswith("I ") else answer[0].lower() + answer[1:])
    elif name:
        answer = f"{name}，" + answer
    return opens[a] + question + closes[b], answer

def pick_name(lang):
    """A customer's name and the system prompt that gives it, for three in ten conversations."""
    if rng.random() >= 0.3:
        return None, None
    n = rng.choice(names_zh if lang == "zh" else names)
    return n, (f"你是商店的客服。顾客的名字是{n}。" if lang == "zh" else f"You are a support agent for the shop. The customer's name is {n}.")

def record(system, text_in, text_out):
    r = {}
    if system:
        r["system"] = system
    r["input"], r["output"] = text_in, text_out
    return r

def lang():
    return "zh" if rng.random() < 0.25 else "en"

def single(held_out):
    lg = lang()
    n, system = pick_name(lg)
    return (system,) + exchange(lg, held_out, n)

train, seen = [], set()
while len(train) < 3000:
    s, i, o = single(held_out=False)
    train.append(record(s, i, o))
    seen.add(i)
test = []
while len(test) < 100:
    s, i, o = single(held_out=True)
    if i not in seen:
        test.append(record(s, i, o))

multiturn = []
for _ in range(200):
    lg = lang()
    turns = rng.choice([2, 3])
    n, system = pick_name(lg)
    messages = [{"role": "system", "content": system}] if system else []
    for t in range(turns):
        while True:  # the last exchange is the customer's thanks, the others are requests
            i, o = exchange(lg, held_out=False, name=n if t == 0 else None)
            is_thanks = any(i.endswith(q) for q in (ZH if lg == "zh" else EN)["thanks"][0])
            if is_thanks == (t == turns - 1):
                break
        messages += [{"role": "user", "content": i}, {"role": "assistant", "content": o}]
    multiturn.append({"messages": messages})

def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

write_jsonl("samples/dialogues/train.jsonl", train)
write_jsonl("samples/dialogues/test.jsonl", test)
write_jsonl("samples/dialogues/multiturn.jsonl", multiturn)
with open("samples/dialogues/transcript.txt", "w", encoding="utf-8", newline="\n") as f:
    convs = []
    for m in multiturn[:50]:
        convs.append("\n".join(("<user> " if x["role"] == "user" else "<bot> ") + x["content"] for x in m["messages"] if x["role"] != "system"))
    f.write("\n\n".join(convs) + "\n")
