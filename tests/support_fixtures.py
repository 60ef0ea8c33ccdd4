"""Three public dataset layouts reproduced as small local files, for the `gage support` tests.

- MMLU (cais/mmlu): question, subject, choices (4 strings), answer (ClassLabel index 0-3);
- GSM8K (openai/gsm8k, main): question, answer (worked solution with <<calc>> annotations, ending "#### N");
- MT-Bench (lmsys mt_bench question.jsonl): question_id, category, turns (list of user turns), reference (list,
  only in math / reasoning / coding).
The contents are written here; the field names, types and conventions are the published ones.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MMLU = [
    {"question": "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.",
     "subject": "abstract_algebra", "choices": ["0", "4", "2", "6"], "answer": 1},
    {"question": "Let p = (1, 2, 5, 4)(2, 3) in S_5. Find the index of <p> in S_5.", "subject": "abstract_algebra",
     "choices": ["8", "2", "24", "120"], "answer": 2},
    {"question": "Which of the following is the body cavity that contains the pituitary gland?", "subject": "anatomy",
     "choices": ["Abdominal", "Cranial", "Pleural", "Spinal"], "answer": 1},
    {"question": "What is the embryological origin of the hyoid bone?", "subject": "anatomy",
     "choices": ["The first pharyngeal arch", "The first and second pharyngeal arches", "The second pharyngeal arch",
                 "The second and third pharyngeal arches"], "answer": 3},
    {"question": "You are pushing a truck along a road. Would it be easier to accelerate this truck on Mars? Why?",
     "subject": "astronomy", "choices": ["It would be harder since the truck is heavier on Mars.",
                                         "It would be easier since the truck is lighter on Mars.",
                                         "It would be harder since the truck is lighter on Mars.",
                                         "It would be the same no matter where you are."], "answer": 3},
    {"question": "Where do most short-period comets come from?", "subject": "astronomy",
     "choices": ["The Kuiper belt", "The asteroid belt", "The Oort cloud", "Random directions"], "answer": 0},
    {"question": "Which planet has the longest day?", "subject": "astronomy",
     "choices": ["Mercury", "Venus", "Jupiter", "Neptune"], "answer": 1},
    {"question": "The pleura", "subject": "anatomy",
     "choices": ["have no sensory innervation.", "are separated by a 2 mm space.",
                 "extend into the neck.", "are composed of respiratory epithelium."], "answer": 2},
]

GSM8K = [
    {"question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How "
                 "many clips did Natalia sell altogether in April and May?",
     "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips "
               "altogether in April and May.\n#### 72"},
    {"question": "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much "
                 "did she earn?",
     "answer": "Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.\nWorking 50 minutes, she earned 0.2 x 50 = "
               "$<<0.2*50=10>>10.\n#### 10"},
    {"question": "Betty is saving money for a new wallet which costs $100. Betty has only half of the money she needs. "
                 "Her parents decided to give her $15 for that purpose, and her grandparents twice as much as her "
                 "parents. How much more money does Betty need to buy the wallet?",
     "answer": "In the beginning, Betty has only 100 / 2 = $<<100/2=50>>50.\nBetty's grandparents gave her 15 * 2 = "
               "$<<15*2=30>>30.\nThis means, Betty needs 100 - 50 - 30 - 15 = $<<100-50-30-15=5>>5 more.\n#### 5"},
    {"question": "James writes a 3-page letter to 2 different friends twice a week. How many pages does he write a "
                 "year?",
     "answer": "He writes each friend 3*2=<<3*2=6>>6 pages a week\nSo he writes 6*2=<<6*2=12>>12 pages every week\n"
               "That means he writes 12*52=<<12*52=624>>624 pages a year\n#### 624"},
    {"question": "Albert is wondering how much pizza he can eat in one day. He buys 2 large pizzas and 2 small "
                 "pizzas. A large pizza has 16 slices and a small pizza has 8 slices. If he eats it all, how many "
                 "pieces does he eat that day?",
     "answer": "He eats 32 from the largest pizzas because 2 x 16 = <<2*16=32>>32\nHe eats 16 from the small pizza "
               "because 2 x 8 = <<2*8=16>>16\nHe eats 48 pieces because 32 + 16 = <<32+16=48>>48\n#### 48"},
    {"question": "A robe takes 2 bolts of blue fiber and half that much white fiber. How many bolts in total does it "
                 "take?",
     "answer": "It takes 2/2=<<2/2=1>>1 bolt of white fiber\nSo the total amount of fabric is 2+1=<<2+1=3>>3 bolts "
               "of fabric\n#### 3"},
    {"question": "Josh decides to try flipping a house. He buys a house for $80,000 and then puts in $50,000 in "
                 "repairs. This increased the value of the house by 150%. How much profit did he make?",
     "answer": "The cost of the house and repairs came out to 80,000+50,000=$<<80000+50000=130000>>130,000\nHe "
               "increased the value of the house by 80,000*1.5=<<80000*1.5=120000>>120,000\nSo the new value of "
               "the house is 120,000+80,000=$<<120000+80000=200000>>200,000\nSo he made a profit of "
               "200,000-130,000=$<<200000-130000=70000>>70,000\n#### 70000"},
]

MT_BENCH = [
    {"question_id": 81, "category": "writing",
     "turns": ["Compose an engaging travel blog post about a recent trip to Hawaii, highlighting cultural "
               "experiences and must-see attractions.",
               "Rewrite your previous response. Start every sentence with the letter A."]},
    {"question_id": 82, "category": "writing",
     "turns": ["Draft a professional email seeking your supervisor's feedback on the 'Quarterly Financial Report' "
               "you prepared. Ask specifically about the data analysis, presentation style, and the clarity of "
               "conclusions drawn. Keep the email short and to the point.",
               "Take a moment to evaluate and critique your own response."]},
    {"question_id": 91, "category": "roleplay",
     "turns": ["Pretend yourself to be Elon Musk in all the following conversations. Speak like Elon Musk as much "
               "as possible. Why do we need to go to Mars?", "How do you like dancing? Can you teach me?"]},
    {"question_id": 101, "category": "reasoning",
     "turns": ["Imagine you are participating in a race with a group of people. If you have just overtaken the "
               "second person, what's your current position? Where is the person you just overtook?",
               "If the \"second person\" is changed to \"last person\" in the above question, what would the "
               "answer be?"],
     "reference": ["You are in second place.", "Uncertain."]},
    {"question_id": 111, "category": "math",
     "turns": ["The vertices of a triangle are at points (0, 0), (-1, 1), and (3, 3). What is the area of the "
               "triangle?", "What's area of the circle circumscribing the triangle?"],
     "reference": ["Area is 3", "5pi"]},
    {"question_id": 131, "category": "extraction",
     "turns": ["Evaluate the following movie reviews on a scale of 1 to 5, with 1 being very negative, 3 being "
               "neutral, and 5 being very positive: This movie released on Nov. 18, 2019, was phenomenal.",
               "Update your previous reply by including the release date as part of the JSON content."]},
    {"question_id": 141, "category": "stem",
     "turns": ["In the field of quantum physics, what is superposition, and how does it relate to the phenomenon of "
               "quantum entanglement?", "What assumptions have you made in your response? Are they valid?"]},
    {"question_id": 151, "category": "humanities",
     "turns": ["Provide insights into the correlation between economic indicators such as GDP, inflation, and "
               "unemployment rates. Explain how fiscal and monetary policies affect those indicators.",
               "Now, explain them again like I'm five."]},
]


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def write_fixtures(project: Path) -> dict[str, Path]:
    """data/mmlu_mini.jsonl, data/gsm8k_mini.jsonl, data/mtbench_mini.jsonl inside `project`."""
    return {"mc": write_jsonl(project / "data" / "mmlu_mini.jsonl", MMLU),
            "math": write_jsonl(project / "data" / "gsm8k_mini.jsonl", GSM8K),
            "judged": write_jsonl(project / "data" / "mtbench_mini.jsonl", MT_BENCH)}
