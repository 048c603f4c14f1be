// Short real sentences in nine languages (three per language), for the language-ID tests of
// tests/curate and tests/cli: each document joins two of its language's sentences, so CLD2 has a
// paragraph to be confident about.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nlm::testing {

struct LidSample {
  const char* lang;  // the ISO 639-1 code CLD2 emits
  const char* sentences[3];
};

inline const std::vector<LidSample>& lid_samples() {
  static const std::vector<LidSample> samples = {
      {"eu",
       {"Euskara Euskal Herriko hizkuntza da, eta milaka urte ditu. Gaur egun ehunka mila pertsonak hitz "
        "egiten dute euskaraz, bai Hego Euskal Herrian bai Ipar Euskal Herrian.",
        "Gure herriko liburutegian liburu asko daude, eta haurrek arratsaldero irakurtzen dute bertan. "
        "Udan, berriz, hondartzara joaten gara familia osoarekin.",
        "Bilboko museoak arte modernoko bilduma handia du, eta urtero milaka bisitari etortzen dira mundu "
        "osotik hura ikustera."}},
      {"ga",
       {"Is teanga Cheilteach í an Ghaeilge, agus labhraítear í in Éirinn le breis agus míle bliain. Tá sí "
        "ina teanga oifigiúil san Aontas Eorpach freisin.",
        "Chuaigh mé go dtí an siopa inné chun arán agus bainne a cheannach, ach bhí an siopa dúnta mar "
        "gheall ar an aimsir.",
        "Bíonn na páistí ag foghlaim Gaeilge ar scoil gach lá, agus is breá leo na hamhráin agus na "
        "scéalta a chloisteáil."}},
      {"es",
       {"El español es una lengua romance que se habla en muchos países de América y en España. Millones "
        "de personas lo aprenden cada año como segunda lengua.",
        "Ayer fuimos al mercado para comprar frutas y verduras frescas, pero llovía tanto que volvimos a "
        "casa muy pronto.",
        "La biblioteca de la ciudad abre todos los días por la mañana, y los estudiantes suelen quedarse "
        "allí hasta la noche."}},
      {"ca",
       {"El català és una llengua romànica que es parla a Catalunya, al País Valencià i a les Illes "
        "Balears. També és la llengua oficial d'Andorra.",
        "Ahir vam anar al mercat a comprar fruita i verdura fresca, però plovia tant que vam tornar a casa "
        "molt aviat.",
        "La biblioteca del poble obre cada dia al matí, i els estudiants s'hi queden fins ben entrada la "
        "nit per preparar els exàmens."}},
      {"zh",
       {"中文是世界上使用人数最多的语言之一。许多国家的学生都在学习汉语，因为它在经济和文化交流中越来越重要。",
        "昨天我们去市场买了新鲜的水果和蔬菜，但是雨下得很大，所以我们很快就回家了。",
        "这座城市的图书馆每天早上开门，很多学生在那里学习到晚上。"}},
      {"ja",
       {"日本語は日本で話されている言語で、ひらがな、カタカナ、漢字の三種類の文字を使います。",
        "昨日は市場で新鮮な果物と野菜を買いましたが、雨がひどかったので早く家に帰りました。",
        "この町の図書館は毎朝開いていて、多くの学生が夜まで勉強しています。"}},
      {"ru",
       {"Русский язык является одним из самых распространённых языков мира. На нём говорят более двухсот "
        "миллионов человек.",
        "Вчера мы ходили на рынок за свежими фруктами и овощами, но шёл такой сильный дождь, что мы быстро "
        "вернулись домой.",
        "Городская библиотека открывается каждое утро, и многие студенты занимаются там до позднего "
        "вечера."}},
      {"ar",
       {"اللغة العربية هي واحدة من أكثر اللغات انتشارا في العالم، ويتحدث بها أكثر من أربعمائة مليون شخص.",
        "ذهبنا أمس إلى السوق لشراء الفواكه والخضروات الطازجة، لكن المطر كان غزيرا فعدنا إلى البيت بسرعة.",
        "تفتح مكتبة المدينة أبوابها كل صباح، ويبقى فيها كثير من الطلاب حتى المساء."}},
      {"th",
       {"ภาษาไทยเป็นภาษาราชการของประเทศไทย และมีผู้พูดมากกว่าหกสิบล้านคน",
        "เมื่อวานเราไปตลาดเพื่อซื้อผลไม้และผักสด แต่ฝนตกหนักมากเราจึงกลับบ้านเร็ว",
        "ห้องสมุดของเมืองเปิดทุกเช้า และนักเรียนหลายคนอ่านหนังสือที่นั่นจนถึงค่ำ"}},
  };
  return samples;
}

// Three documents per language (sentences 1+2, 2+3, 1+3) as JSONL, labelled in `field` with
// label_of(CLD2's code) so tests can write the labels as 639-3 or BCP 47 codes.
template <class LabelOf>
std::string lid_samples_jsonl(LabelOf label_of, const std::string& field = "lang") {
  std::string out;
  for (const auto& s : lid_samples())
    for (auto [a, b] : {std::pair{0, 1}, std::pair{1, 2}, std::pair{0, 2}}) {
      nlohmann::json j = {{"text", std::string(s.sentences[a]) + " " + s.sentences[b]}};
      std::string label = label_of(std::string(s.lang));
      if (!label.empty()) j[field] = label;
      out += j.dump() + "\n";
    }
  return out;
}

}  // namespace nlm::testing
