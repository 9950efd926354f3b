#!/usr/bin/env python3
"""Writes the bundled sample corpus (samples/text/support.txt): short customer-support exchanges in English and
Chinese, made from templates with a fixed seed, so a small model can learn their shape in minutes."""
import random

rng = random.Random(2026)
names = ["Alice", "Bob", "Chen Wei", "Dana", "Emma", "Farid", "Grace", "Hiro", "Ivan", "Julia", "Kofi", "Lena", "Mia", "Noah", "Omar", "Priya"]
items = ["blue backpack", "coffee grinder", "desk lamp", "pair of running shoes", "wireless mouse", "rain jacket", "tea kettle",
         "phone case", "yoga mat", "water bottle", "mechanical keyboard", "winter scarf", "travel mug", "bluetooth speaker"]
cities = ["Berlin", "Shanghai", "Toronto", "Nairobi", "Lima", "Osaka", "Madrid", "Sydney", "Chicago", "Hangzhou"]
days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
items_zh = ["蓝色背包", "咖啡研磨机", "台灯", "跑鞋", "无线鼠标", "雨衣", "水壶", "手机壳", "瑜伽垫", "保温杯"]
cities_zh = ["上海", "北京", "杭州", "广州", "深圳", "成都", "南京", "武汉"]

def order():
    return f"{rng.randint(10000, 99999)}"

def en():
    n, it, c, d, o = rng.choice(names), rng.choice(items), rng.choice(cities), rng.choice(days), order()
    k = rng.randrange(8)
    if k == 0:
        return [f"Customer: Hi, I want to check the status of my order {o}.",
                f"Agent: Thank you, {n}. Order {o} for the {it} has shipped and should arrive in {c} on {d}."]
    if k == 1:
        return [f"Customer: My {it} arrived broken. Can I return it?",
                f"Agent: I am sorry to hear that. You can return the {it} within 30 days and we will send a new one for free."]
    if k == 2:
        return [f"Customer: How long does shipping to {c} take?",
                f"Agent: Standard shipping to {c} takes three to five days. Express shipping arrives by {d}."]
    if k == 3:
        return [f"Customer: I forgot my password and cannot log in.",
                f"Agent: No problem, {n}. Click \"Forgot password\" on the login page and we will email you a reset link."]
    if k == 4:
        return [f"Customer: Can I change the address for order {o}?",
                f"Agent: Yes. The order has not shipped yet, so I have changed the address to {c} for you."]
    if k == 5:
        return [f"Customer: Do you have the {it} in stock?",
                f"Agent: Yes, the {it} is in stock. If you order today it ships on {d}."]
    if k == 6:
        return [f"Customer: I was charged twice for order {o}.",
                f"Agent: I am sorry, {n}. I have refunded the second charge. You will see it in three to five business days."]
    return [f"Customer: Thank you for your help!",
            f"Agent: You are welcome, {n}. Have a great {d}!"]

def zh():
    it, c, o = rng.choice(items_zh), rng.choice(cities_zh), order()
    k = rng.randrange(5)
    if k == 0:
        return [f"客户：我想查询我的订单状态，订单号是{o}。", f"客服：您的订单{o}已经发货，预计两天内送达{c}。"]
    if k == 1:
        return [f"客户：我收到的{it}坏了，可以退货吗？", f"客服：非常抱歉。您可以在三十天内退货，我们会免费为您换一个新的{it}。"]
    if k == 2:
        return [f"客户：寄到{c}需要多长时间？", f"客服：寄到{c}一般需要三到五天，加急快递第二天送达。"]
    if k == 3:
        return [f"客户：我忘记密码了，怎么办？", f"客服：请在登录页面点击“忘记密码”，我们会把重置链接发到您的邮箱。"]
    return [f"客户：谢谢你的帮助！", f"客服：不客气，祝您生活愉快！"]

with open("samples/text/support.txt", "w", encoding="utf-8", newline="\n") as f:
    for _ in range(6000):
        lines = zh() if rng.random() < 0.25 else en()
        f.write("\n".join(lines) + "\n\n")
