// Hand-written prose used by the curate tests: documents that a correct chain must keep (real
// running text in English, German, French and Chinese), and a builder for the test corpus with
// planted junk, repetition and PII.
#pragma once
#include <string>

namespace nlm::testing {

inline const std::string kEnglish =
    "The village library opened its doors in the spring of that year, after the old school "
    "building had been repaired by volunteers from the valley.\n"
    "Most of the books were donated by families who had kept them for generations, and each one "
    "carried a small card with the name of the person who gave it.\n\n"
    "On the first morning, children came with their parents to borrow stories about ships, "
    "mountains and distant cities. The librarian, a retired teacher, wrote every loan into a "
    "large ledger with a green cover.\n"
    "By the end of the summer, the reading room had become the place where farmers discussed the "
    "weather and students prepared for their examinations.";

inline const std::string kGerman =
    "Der kleine Hafen liegt am Ende einer langen Bucht, die im Winter oft von dichtem Nebel "
    "bedeckt ist.\n"
    "Früher lebten die meisten Familien vom Fischfang, doch heute kommen im Sommer viele Gäste, "
    "die mit dem Fahrrad an der Küste entlang fahren.\n\n"
    "Im alten Zollhaus befindet sich jetzt ein Museum, in dem man Netze, Karten und Fotografien "
    "aus dem vorigen Jahrhundert sehen kann. Die Schüler der Gemeinde haben die Ausstellung "
    "gemeinsam mit ihren Lehrern vorbereitet und erklären sie den Besuchern am Wochenende.";

inline const std::string kFrench =
    "Le marché du samedi occupe toute la place de l'église depuis plus de deux siècles.\n"
    "Les producteurs arrivent avant le lever du soleil pour installer leurs étals de fromages, de "
    "légumes et de pain encore chaud.\n\n"
    "Au milieu de la matinée, les habitants se retrouvent au café pour commenter les nouvelles de "
    "la semaine. Les enfants courent entre les stands pendant que leurs parents choisissent les "
    "fruits de saison avec beaucoup de soin.";

inline const std::string kChinese =
    "这个小镇位于两条河流交汇的地方，历史上一直是附近村庄的贸易中心。\n"
    "每到秋天，农民们会把收获的粮食和水果运到镇上的市场，和来自远方的商人进行交换。\n\n"
    "镇上的老图书馆是在一百多年前建成的，里面保存着许多珍贵的地方志和家谱。"
    "现在，学生们放学以后常常来这里读书，老人们也喜欢在院子里聊天、下棋。"
    "政府最近决定修复图书馆的屋顶，并且在旁边建一个新的文化广场，让更多的人可以参加活动。";

}  // namespace nlm::testing
