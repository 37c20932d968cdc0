// Chat templates: PrefLab's Jinja2 interpreter against jinja2 configured as transformers configures it
// (tests/data/chat_templates/make_reference.py), whitespace control, scoping, undefined values, and the
// errors for what it does not support. The expected texts of the tables come from jinja2 3.1.
#include "core/io/input_error.h"
#include "core/text/chat_template.h"

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace preflab_tests {

using namespace preflab::core;

namespace {

const std::string kDir = PREFLAB_TEST_DATA_DIR "/chat_templates";

std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

const nlohmann::ordered_json &conversations() {
  static const auto data = nlohmann::ordered_json::parse(readText(kDir + "/conversations.json"));
  return data;
}

std::vector<nlohmann::ordered_json> referenceLines() {
  std::ifstream in(kDir + "/reference.jsonl", std::ios::binary);
  std::vector<nlohmann::ordered_json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      out.push_back(nlohmann::ordered_json::parse(line));
  return out;
}

// The context make_reference.py renders with: the template's special tokens, the conversation's
// extra variables, messages, tools (None when absent) and add_generation_prompt.
nlohmann::ordered_json referenceContext(const std::string &templateName, int conversation,
                                        bool addGenerationPrompt) {
  const auto &tokens = conversations()["special_tokens"];
  auto context = tokens.contains(templateName) ? tokens[templateName] : tokens["default"];
  const auto &c = conversations()["conversations"][std::size_t(conversation)];
  if (c.contains("extra"))
    context.update(c["extra"]);
  context["messages"] = c["messages"];
  context["tools"] = c.contains("tools") ? c["tools"] : nlohmann::ordered_json();
  context["add_generation_prompt"] = addGenerationPrompt;
  return context;
}

nlohmann::ordered_json smallContext() {
  return nlohmann::ordered_json::parse(
      R"({"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]})");
}

std::string render(const QByteArray &source, const nlohmann::ordered_json &context = smallContext()) {
  return ChatTemplate(source.toStdString()).render(context);
}

struct Failure {
  bool thrown = false;
  std::int64_t line = 0;
  std::string key, message, what;
};

// Parses and renders; the InputError it throws, if any.
Failure failureOf(const std::string &source, const nlohmann::ordered_json &context = smallContext()) {
  Failure f;
  try {
    ChatTemplate(source).render(context);
  } catch (const InputError &e) {
    f = {true, e.line(), e.key(), e.message(), e.what()};
  }
  return f;
}

// Rows of (template, expected output); the outputs were computed by jinja2 3.1 with smallContext().
void addExpectationColumns() {
  QTest::addColumn<QByteArray>("source");
  QTest::addColumn<QByteArray>("expected");
}

// Rows of (template, fragment the message must hold, line of the error).
void addFailureColumns() {
  QTest::addColumn<QByteArray>("source");
  QTest::addColumn<QByteArray>("fragment");
  QTest::addColumn<int>("line");
}

void checkFailure() {
  QFETCH(QByteArray, source);
  QFETCH(QByteArray, fragment);
  QFETCH(int, line);
  const auto f = failureOf(source.toStdString());
  QVERIFY2(f.thrown, "no InputError");
  QCOMPARE(f.key, std::string("chat_template"));
  QVERIFY2(f.message.find(fragment.toStdString()) != std::string::npos, f.what.c_str());
  QCOMPARE(f.line, std::int64_t(line));
}

} // namespace

class TestChatTemplate : public QObject {
  Q_OBJECT

private Q_SLOTS:
  // Every line of reference.jsonl: 8 templates (Qwen3 and Llama 3 exactly as published, ChatML,
  // Mistral, Zephyr, Llama-3.1-style tools, Gemma-style, macros) x 12 conversations (unicode,
  // reasoning, whitespace, tool calls, empty content, content parts...) x add_generation_prompt.
  // The same text as jinja2, or an error where jinja2 raised, with raise_exception's message.
  void matchesJinja2_data() {
    QTest::addColumn<QString>("templateName");
    QTest::addColumn<int>("conversation");
    QTest::addColumn<bool>("addGenerationPrompt");
    for (const auto &line : referenceLines()) {
      const auto name = line["template"].get<std::string>();
      const int c = line["conversation"].get<int>();
      const bool agp = line["add_generation_prompt"].get<bool>();
      const auto row = name + "/" +
                       conversations()["conversations"][std::size_t(c)]["name"].get<std::string>() +
                       (agp ? "/prompt" : "");
      QTest::newRow(row.c_str()) << QString::fromStdString(name) << c << agp;
    }
  }
  void matchesJinja2() {
    QFETCH(QString, templateName);
    QFETCH(int, conversation);
    QFETCH(bool, addGenerationPrompt);
    const auto name = templateName.toStdString();
    nlohmann::ordered_json expected;
    for (const auto &line : referenceLines())
      if (line["template"] == name && line["conversation"] == conversation &&
          line["add_generation_prompt"] == addGenerationPrompt)
        expected = line;
    QVERIFY(!expected.is_null());
    const ChatTemplate chatTemplate(readText(kDir + "/" + name + ".jinja"));
    const auto context = referenceContext(name, conversation, addGenerationPrompt);
    if (expected.contains("text")) {
      QCOMPARE(chatTemplate.render(context), expected["text"].get<std::string>());
      return;
    }
    std::string message;
    try {
      chatTemplate.render(context);
    } catch (const InputError &e) {
      message = e.message();
    }
    QVERIFY2(!message.empty(), "jinja2 raised, ChatTemplate rendered");
    if (expected.contains("raised"))
      QCOMPARE(message, "the chat template raised: " + expected["raised"].get<std::string>());
  }

  // reference.jsonl covers every template file and every conversation, both ways; the published
  // templates are unchanged.
  void referenceCoversEverything() {
    std::set<std::string> names;
    for (const auto &entry : std::filesystem::directory_iterator(kDir))
      if (entry.path().extension() == ".jinja")
        names.insert(entry.path().stem().string());
    QCOMPARE(names.size(), std::size_t(8));
    const auto lines = referenceLines();
    QCOMPARE(lines.size(), names.size() * conversations()["conversations"].size() * 2);
    for (const auto &line : lines)
      QVERIFY(names.count(line["template"].get<std::string>()) == 1);
    const auto qwen3 = readText(kDir + "/qwen3.jinja");
    QVERIFY(qwen3.rfind("{%- if tools %}", 0) == 0);
    QVERIFY(qwen3.find("enable_thinking is defined and enable_thinking is false") != std::string::npos);
    QCOMPARE(ChatTemplate(qwen3).source(), qwen3);
  }

  // trim_blocks, lstrip_blocks, {%- -%}, {{- -}}, {%+ +%}, comments, raw, newline normalization.
  void whitespaceControl_data() {
    addExpectationColumns();
    QTest::newRow("trim_blocks") << QByteArray("{% if true %}\nyes\n{% endif %}\nend")
                                 << QByteArray("yes\nend");
    QTest::newRow("lstrip_blocks") << QByteArray("a\n    {% if true %}\n    b\n    {% endif %}\nc")
                                   << QByteArray("a\n    b\nc");
    QTest::newRow("lstrip_not_before_print") << QByteArray("a\n    {{ 'x' }}\n") << QByteArray("a\n    x");
    QTest::newRow("lstrip_not_after_text")
        << QByteArray("a  {% if true %}b{% endif %}") << QByteArray("a  b");
    QTest::newRow("minus_strips_all")
        << QByteArray("a \n\n {%- if true -%} \n\n b \n {%- endif -%}\n\n c") << QByteArray("abc");
    QTest::newRow("print_minus") << QByteArray("a  \n {{- 'x' -}} \n b") << QByteArray("axb");
    QTest::newRow("plus_keeps_indent")
        << QByteArray("a\n  {%+ if true %}b{% endif %}") << QByteArray("a\n  b");
    QTest::newRow("plus_keeps_newline") << QByteArray("{% if true +%}\nb{% endif %}") << QByteArray("\nb");
    QTest::newRow("comment_trimmed") << QByteArray("  {# note #}\nq") << QByteArray("q");
    QTest::newRow("comment_minus") << QByteArray("a  {#- note -#}  b") << QByteArray("ab");
    QTest::newRow("raw_block") << QByteArray("x\n  {% raw %} {{ not parsed }}\n  {% endraw %}\n y")
                               << QByteArray("x\n {{ not parsed }}\n y");
    QTest::newRow("crlf_normalized") << QByteArray("{% if true %}\r\nx\r\n{% endif %}\r\n")
                                     << QByteArray("x\n");
    QTest::newRow("trailing_newline_dropped") << QByteArray("x\n") << QByteArray("x");
    QTest::newRow("only_one_trailing_newline_dropped") << QByteArray("x\n\n") << QByteArray("x\n");
    QTest::newRow("unicode_space_lstripped")
        << QByteArray("a\n　 {% if true %}b{% endif %}") << QByteArray("a\nb");
    QTest::newRow("nested_braces") << QByteArray("{{ {'a': {'b': 1}} }}") << QByteArray("{'a': {'b': 1}}");
    QTest::newRow("percent_in_string") << QByteArray("{% set x = '%}' %}{{ x }}") << QByteArray("%}");
    QTest::newRow("loop_newlines") << QByteArray("{% for i in [1, 2] %}\n  item {{ i }}\n{% endfor %}\ndone")
                                   << QByteArray("  item 1\n  item 2\ndone");
  }
  void whitespaceControl() {
    QFETCH(QByteArray, source);
    QFETCH(QByteArray, expected);
    QCOMPARE(render(source), expected.toStdString());
  }

  // A for body is a scope of its own (set inside does not leak, which is why templates use
  // namespace()); if does not scope; macros see their definition's scope at call time.
  void scoping_data() {
    addExpectationColumns();
    QTest::newRow("set_in_for_does_not_leak")
        << QByteArray("{% set x = 1 %}{% for i in [1, 2] %}{% set x = i %}{% endfor %}{{ x }}")
        << QByteArray("1");
    QTest::newRow("loop_variable_does_not_leak")
        << QByteArray("{% for m in [1, 2] %}{% endfor %}[{{ m }}]") << QByteArray("[]");
    QTest::newRow("iteration_scope_is_fresh") << QByteArray("{% for i in [1, 2, 3] %}{% if loop.first %}{% "
                                                            "set x = 'set' %}{% endif %}{{ x }},{% endfor %}")
                                              << QByteArray("set,,,");
    QTest::newRow("read_before_set_sees_outer")
        << QByteArray("{% set x = 0 %}{% for i in [1, 2] %}{{ x }}{% set x = i %}{{ x }};{% endfor %}")
        << QByteArray("01;02;");
    QTest::newRow("namespace_carries_out")
        << QByteArray("{% set ns = namespace(total=0) %}{% for i in [1, 2, 3] %}{% set ns.total = ns.total + "
                      "i %}{% endfor %}{{ ns.total }}")
        << QByteArray("6");
    QTest::newRow("if_does_not_scope")
        << QByteArray("{% if true %}{% set x = 'inner' %}{% endif %}{{ x }}") << QByteArray("inner");
    QTest::newRow("untaken_branch_keeps_outer")
        << QByteArray("{% set x = 'outer' %}{% if false %}{% set x = 'inner' %}{% endif %}{{ x }}")
        << QByteArray("outer");
    QTest::newRow("top_level_set_shadows_context")
        << QByteArray("{% set messages = messages[1:] %}{{ messages | length }}") << QByteArray("1");
    QTest::newRow("else_block_own_scope")
        << QByteArray("{% for x in [] %}{% else %}{% set y = 1 %}{% endfor %}[{{ y }}]") << QByteArray("[]");
    QTest::newRow("set_block_own_scope")
        << QByteArray("{% set x %}{% set y = 1 %}{{ y }}{% endset %}[{{ x }}][{{ y }}]")
        << QByteArray("[1][]");
    QTest::newRow("macro_sees_definition_scope_at_call")
        << QByteArray("{% macro f() %}{{ x }}{% endmacro %}{{ f() }}|{% set x = 2 %}{{ f() }}")
        << QByteArray("|2");
    QTest::newRow("macro_does_not_see_caller_loop")
        << QByteArray("{% macro f() %}[{{ m }}]{% endmacro %}{% for m in [1] %}{{ f() }}{% endfor %}")
        << QByteArray("[]");
    QTest::newRow("macro_set_does_not_leak")
        << QByteArray("{% macro f() %}{% set x = 1 %}{% endmacro %}{{ f() }}[{{ x }}]") << QByteArray("[]");
    QTest::newRow("macro_defaults") << QByteArray("{% macro f(a, b=a, c='c') %}{{ a }}{{ b }}{{ c }}{% "
                                                  "endmacro %}{{ f(1) }}|{{ f(1, c=3) }}|{{ f() }}")
                                    << QByteArray("11c|113|c");
    QTest::newRow("loop_filter_sees_outer_loop")
        << QByteArray("{% for a in [1, 2] %}{% for b in [1, 2, 3] if loop.index == a %}{{ b }}{% endfor "
                      "%};{% endfor %}")
        << QByteArray("123;123;");
    QTest::newRow("generation_renders_body")
        << QByteArray("{% for m in messages %}{% generation %}<{{ m.role }}>{% set g = 1 %}{% endgeneration "
                      "%}{% endfor %}[{{ g }}]")
        << QByteArray("<system><user>[]");
    QTest::newRow("break_and_continue")
        << QByteArray("{% for i in range(10) %}{% if i is odd %}{% continue %}{% endif %}{% if i > 6 %}{% "
                      "break %}{% endif %}{{ i }}{% endfor %}")
        << QByteArray("0246");
    QTest::newRow("loop_attributes")
        << QByteArray("{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ "
                      "loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem "
                      "}}{{ loop.nextitem }}{{ loop.cycle('+', '-') }}|{% endfor %}")
        << QByteArray("1032TrueFalse3b+|2121FalseFalse3ac-|3210FalseTrue3b+|");
    QTest::newRow("for_unpacking") << QByteArray("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v "
                                                 "}}{{ ', ' if not loop.last }}{% endfor %}")
                                   << QByteArray("a=1, b=2");
    QTest::newRow("for_else")
        << QByteArray("{% for x in [1, 2] if x > 5 %}{{ x }}{% else %}none above 5{% endfor %}")
        << QByteArray("none above 5");
  }
  void scoping() {
    QFETCH(QByteArray, source);
    QFETCH(QByteArray, expected);
    QCOMPARE(render(source), expected.toStdString());
  }

  // jinja2's default Undefined: prints empty, falsy, iterates empty, missing keys and indexes.
  void undefinedValues_data() {
    addExpectationColumns();
    QTest::newRow("prints_empty") << QByteArray("[{{ missing }}]") << QByteArray("[]");
    QTest::newRow("is_falsy") << QByteArray("{% if missing %}yes{% else %}no{% endif %}") << QByteArray("no");
    QTest::newRow("iterates_empty") << QByteArray("{% for x in missing %}x{% else %}empty{% endfor %}")
                                    << QByteArray("empty");
    QTest::newRow("missing_key")
        << QByteArray("[{{ messages[0]['tool_calls'] }}]{{ messages[0].tool_calls is defined }}")
        << QByteArray("[]False");
    QTest::newRow("index_out_of_range") << QByteArray("[{{ messages[5] }}]") << QByteArray("[]");
    QTest::newRow("default_filter")
        << QByteArray("{{ missing | default('d') }}{{ '' | default('e', true) }}{{ none | default('n') }}")
        << QByteArray("deNone");
    QTest::newRow("length_zero") << QByteArray("{{ missing | length }}") << QByteArray("0");
    QTest::newRow("attribute_of_none") << QByteArray("[{{ none.x }}]") << QByteArray("[]");
    QTest::newRow("tilde_concat") << QByteArray("{{ 'a' ~ missing ~ 'b' }}") << QByteArray("ab");
    QTest::newRow("cond_without_else") << QByteArray("[{{ 'x' if false }}]") << QByteArray("[]");
    QTest::newRow("equals_only_undefined")
        << QByteArray("{{ missing == none }}{{ missing == other_missing }}{{ 'a' in missing }}")
        << QByteArray("FalseTrueFalse");
  }
  void undefinedValues() {
    QFETCH(QByteArray, source);
    QFETCH(QByteArray, expected);
    QCOMPARE(render(source), expected.toStdString());
  }

  // Python's str() and repr(), json.dumps, str methods, filters, tests and operators.
  void pythonValues_data() {
    addExpectationColumns();
    QTest::newRow("str_of_scalars") << QByteArray("{{ none }} {{ true }} {{ 1.0 }} {{ 1e16 }} {{ 0.00001 }} "
                                                  "{{ 7 // -2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 10 / 4 }}")
                                    << QByteArray("None True 1.0 1e+16 1e-05 -4 2 1024 2.5");
    QTest::newRow("repr_of_containers") << QByteArray("{{ [1, 'a', none, true, 1.5, {'k': 'v'}, (1,), ()] }}")
                                        << QByteArray("[1, 'a', None, True, 1.5, {'k': 'v'}, (1,), ()]");
    QTest::newRow("repr_quotes") << QByteArray("{{ [\"it's\", 'say \"hi\"', 'tab\\tnew\\nline', 'é😀'] }}")
                                 << QByteArray("[\"it's\", 'say \"hi\"', 'tab\\tnew\\nline', 'é😀']");
    QTest::newRow("tojson_defaults") << QByteArray(
                                            "{{ {'a': [1, 2.5, none, true], 'é': 'ü\"\\n'} | tojson }}")
                                     << QByteArray("{\"a\": [1, 2.5, null, true], \"é\": \"ü\\\"\\n\"}");
    QTest::newRow("tojson_indent") << QByteArray("{{ {'a': [1, {}], 'b': []} | tojson(indent=2) }}")
                                   << QByteArray("{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}");
    QTest::newRow("tojson_options")
        << QByteArray(
               "{{ {'b': 1, 'a': 'é'} | tojson(ensure_ascii=true, sort_keys=true, separators=(',', ':')) }}")
        << QByteArray("{\"a\":\"\\u00e9\",\"b\":1}");
    QTest::newRow("string_methods")
        << QByteArray(
               "{{ '  a b  '.strip() }}|{{ 'x,y,,z'.split(',') }}|{{ ' a  b '.split() }}|{{ "
               "'aXbXc'.rsplit('X', 1) }}|{{ '\\n\\nt\\n'.lstrip('\\n') }}|{{ 'Hello'.startswith(('x', "
               "'He')) }}|{{ 'hello world'.title() }}|{{ 'a-b'.replace('-', '+') }}")
        << QByteArray("a b|['x', 'y', '', 'z']|['a', 'b']|['aXb', 'c']|t\n|True|Hello World|a+b");
    QTest::newRow("string_filters")
        << QByteArray("{{ ' hi ' | trim }}|{{ 'hello WORLD-x(y' | title }}|{{ 'aBC' | capitalize }}|{{ "
                      "'a\\nb' | indent(2, true) }}|{{ 'one two  three' | wordcount }}|{{ 'héllo' | length "
                      "}}|{{ 'héllo'[1:3] }}|{{ 'abc' | reverse }}")
        << QByteArray("hi|Hello World-X(Y|Abc|  a\n  b|3|5|él|cba");
    QTest::newRow("sequence_filters")
        << QByteArray(
               "{{ [3, 1, 2] | sort }}|{{ ['b', 'A', 'a'] | unique | list }}|{{ [1, 2, 3] | select('odd') | "
               "list }}|{{ messages | map(attribute='role') | join(',') }}|{{ messages | selectattr('role', "
               "'equalto', 'user') | list | length }}|{{ [1, 2] | reverse | list }}|{{ {'b': 1} | items | "
               "list }}|{{ [1, 2] | first }}{{ [1, 2] | last }}")
        << QByteArray("[1, 2, 3]|['b', 'A']|[1, 3]|system,user|1|[2, 1]|[('b', 1)]|12");
    QTest::newRow("numbers")
        << QByteArray("{{ '42' | int + 1 }}|{{ '4.5' | float }}|{{ 'x' | int(7) }}|{{ -3 | abs }}|{{ 3 is "
                      "divisibleby 3 }}|{{ 2 is even }}|{{ 1 == 1.0 }}|{{ 1 < 2 < 3 }}|{{ True + 1 }}")
        << QByteArray("43|4.5|7|3|True|True|True|True|2");
    QTest::newRow("tests")
        << QByteArray("{{ messages is sequence }}{{ messages[0] is mapping }}{{ 'x' is string }}{{ 1 is "
                      "number }}{{ 1.0 is float }}{{ none is none }}{{ x is undefined }}{{ 'abc' is lower }}")
        << QByteArray("TrueTrueTrueTrueTrueTrueTrueTrue");
    QTest::newRow("operators")
        << QByteArray("{{ 'ab' * 2 }}|{{ [1] + [2] }}|{{ 'a' in 'cat' }}|{{ 'z' not in 'cat' }}|{{ 1 if 0 "
                      "else 2 }}|{{ not 0 }}|{{ 0 or 'x' }}|{{ 1 and 2 }}|{{ -2 ** 2 }}|{{ 2 ** 3 ** 2 }}")
        << QByteArray("abab|[1, 2]|True|True|2|True|x|2|4|64");
  }
  void pythonValues() {
    QFETCH(QByteArray, source);
    QFETCH(QByteArray, expected);
    QCOMPARE(render(source), expected.toStdString());
  }

  // What the interpreter does not implement is refused with the construct and the line, never
  // rendered some other way.
  void refusesUnsupported_data() {
    addFailureColumns();
    QTest::newRow("include") << QByteArray("{% include 'part.jinja' %}")
                             << QByteArray("{% include %} is not supported") << 1;
    QTest::newRow("extends") << QByteArray("a\n{% extends 'base.jinja' %}")
                             << QByteArray("{% extends %} is not supported") << 2;
    QTest::newRow("import") << QByteArray("\n\n{% import 'macros.jinja' as m %}")
                            << QByteArray("{% import %} is not supported") << 3;
    QTest::newRow("from import") << QByteArray("{% from 'm.jinja' import f %}")
                                 << QByteArray("{% from %} is not supported") << 1;
    QTest::newRow("call block") << QByteArray("{% macro f() %}{% endmacro %}\n{% call f() %}x{% endcall %}")
                                << QByteArray("{% call %} is not supported") << 2;
    QTest::newRow("filter block") << QByteArray("{% filter upper %}x{% endfilter %}")
                                  << QByteArray("{% filter %} is not supported") << 1;
    QTest::newRow("unknown filter") << QByteArray("x\n{{ messages | frobnicate }}")
                                    << QByteArray("no filter named 'frobnicate'") << 2;
    QTest::newRow("unsupported filter") << QByteArray("{{ 'a b' | wordwrap(1) }}")
                                        << QByteArray("the |wordwrap filter is not supported") << 1;
    QTest::newRow("unknown filter in dead branch") << QByteArray("{% if false %}\n{{ x | nope }}{% endif %}")
                                                   << QByteArray("no filter named 'nope'") << 2;
    QTest::newRow("unknown test") << QByteArray("{{ 1 is prime }}") << QByteArray("no test named 'prime'")
                                  << 1;
    QTest::newRow("list append") << QByteArray("{% set l = [1] %}\n{{ l.append(2) }}")
                                 << QByteArray("'list.append' would modify the object") << 2;
    QTest::newRow("dict update") << QByteArray("{{ messages[0].update({'a': 1}) }}")
                                 << QByteArray("'dict.update' would modify") << 1;
    QTest::newRow("str format") << QByteArray("{{ '{}'.format(1) }}")
                                << QByteArray("'str.format' is not supported") << 1;
    QTest::newRow("percent formatting")
        << QByteArray("\n{{ '%s' % 1 }}") << QByteArray("string formatting with '%'") << 2;
    QTest::newRow("recursive loop") << QByteArray("{% for m in messages recursive %}{% endfor %}")
                                    << QByteArray("recursive for loops") << 1;
    QTest::newRow("macro varargs") << QByteArray("{% macro f() %}{{ varargs }}{% endmacro %}")
                                   << QByteArray("'varargs'") << 1;
    QTest::newRow("non-ASCII case") << QByteArray("{{ 'é' | upper }}")
                                    << QByteArray("non-ASCII text (U+00E9)") << 1;
    QTest::newRow("tuple subscript") << QByteArray("{{ messages[0, 1] }}") << QByteArray("several parts")
                                     << 1;
    QTest::newRow("loop.changed") << QByteArray("{% for m in messages %}\n{{ loop.changed(m) }}{% endfor %}")
                                  << QByteArray("loop.changed() is not supported") << 2;
    QTest::newRow("print generator") << QByteArray("{{ [1, 2] | reverse }}")
                                     << QByteArray("printing a generator") << 1;
    QTest::newRow("generator reused")
        << QByteArray("{% set r = [1] | reverse %}{{ r | list }}\n{{ r | list }}")
        << QByteArray("used a second time") << 2;
    QTest::newRow("break in set block")
        << QByteArray("{% for i in [1] %}{% set x %}{% break %}{% endset %}{% endfor %}")
        << QByteArray("{% break %} inside a {% set %} block") << 1;
  }
  void refusesUnsupported() { checkFailure(); }

  // Syntax errors name the line they are on (or the line of the block left open).
  void syntaxErrors_data() {
    addFailureColumns();
    QTest::newRow("unclosed if") << QByteArray("a\n{% if true %}\nb") << QByteArray("{% if %} is not closed")
                                 << 2;
    QTest::newRow("unclosed for") << QByteArray("{% for m in messages %}\n{% if true %}{% endif %}")
                                  << QByteArray("no {% endfor %}") << 1;
    QTest::newRow("stray endfor") << QByteArray("\n\n{% endfor %}") << QByteArray("unexpected {% endfor %}")
                                  << 3;
    QTest::newRow("dangling operator") << QByteArray("line\n{{ 1 + }}") << QByteArray("unexpected '}}'") << 2;
    QTest::newRow("unterminated string")
        << QByteArray("a\n\n{{ 'abc }}") << QByteArray("unterminated string") << 3;
    QTest::newRow("unclosed comment") << QByteArray("a\nb\n{# never closed") << QByteArray("comment") << 3;
    QTest::newRow("unclosed print") << QByteArray("{{ x\n\n") << QByteArray("not closed with }}") << 1;
    QTest::newRow("unbalanced bracket") << QByteArray("{{ (1 ] }}") << QByteArray("unexpected ']'") << 1;
    QTest::newRow("unknown tag") << QByteArray("x\n{% frob %}") << QByteArray("unknown tag {% frob %}") << 2;
    QTest::newRow("break outside loop")
        << QByteArray("\n{% break %}") << QByteArray("outside a for loop") << 2;
    QTest::newRow("assign to constant")
        << QByteArray("{% set true = 1 %}") << QByteArray("expected a variable name") << 1;
    QTest::newRow("unexpected character")
        << QByteArray("{{ a ! b }}") << QByteArray("unexpected character '!'") << 1;
    QTest::newRow("empty print") << QByteArray("{{ }}") << QByteArray("expected an expression") << 1;
    QTest::newRow("bad escape") << QByteArray("{{ '\\x4' }}") << QByteArray("truncated \\x escape") << 1;
  }
  void syntaxErrors() { checkFailure(); }

  // Runtime errors: raise_exception's message, Python's TypeErrors, undefined attribute access.
  void runtimeErrors_data() {
    addFailureColumns();
    QTest::newRow("raise_exception") << QByteArray("a\n\n{{ raise_exception('Roles must alternate') }}")
                                     << QByteArray("the chat template raised: Roles must alternate") << 3;
    QTest::newRow("attribute of undefined")
        << QByteArray("{{ missing.content }}") << QByteArray("'missing' is undefined") << 1;
    QTest::newRow("item of undefined")
        << QByteArray("\n{{ messages[3]['content'] }}") << QByteArray("index out of range") << 2;
    QTest::newRow("str plus int") << QByteArray("{{ 'a' + 1 }}") << QByteArray("can only concatenate str")
                                  << 1;
    QTest::newRow("str plus none") << QByteArray("{{ messages[0].content + none }}")
                                   << QByteArray("can only concatenate str") << 1;
    QTest::newRow("division by zero")
        << QByteArray("{{ 1 // 0 }}") << QByteArray("division or modulo by zero") << 1;
    QTest::newRow("slice step zero") << QByteArray("{{ messages[::0] }}")
                                     << QByteArray("slice step cannot be zero") << 1;
    QTest::newRow("set attribute of non-namespace")
        << QByteArray("{% set ns = 1 %}\n{% set ns.a = 2 %}") << QByteArray("non-namespace") << 2;
    QTest::newRow("ordering mixed types")
        << QByteArray("{{ 1 < 'a' }}") << QByteArray("'<' not supported") << 1;
    QTest::newRow("too many macro arguments") << QByteArray("{% macro f(a) %}{% endmacro %}{{ f(1, 2) }}")
                                              << QByteArray("takes not more than 1 argument") << 1;
    QTest::newRow("not iterable") << QByteArray("{% for x in 5 %}{% endfor %}")
                                  << QByteArray("'int' object is not iterable") << 1;
    QTest::newRow("tojson of undefined")
        << QByteArray("{{ missing | tojson }}") << QByteArray("not JSON serializable") << 1;
    QTest::newRow("unpack mismatch") << QByteArray("{% for a, b in [[1, 2, 3]] %}{% endfor %}")
                                     << QByteArray("too many values to unpack") << 1;
  }
  void runtimeErrors() { checkFailure(); }

  // Hostile templates end with an error instead of exhausting the stack, memory or time.
  void limits_data() {
    addFailureColumns();
    QTest::newRow("deep parentheses")
        << QByteArray("{{ " + QByteArray(2000, '(') + "1" + QByteArray(2000, ')') + " }}")
        << QByteArray("nested too deeply") << 1;
    QTest::newRow("long operator chain") << QByteArray("{{ 1" + QByteArray("+1").repeated(5000) + " }}")
                                         << QByteArray("nested too deeply") << 1;
    QTest::newRow("deep blocks") << QByteArray("{% if true %}").repeated(500)
                                 << QByteArray("nested too deeply") << 1;
    QTest::newRow("endless recursion") << QByteArray("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")
                                       << QByteArray("macro calls nested more than") << 1;
    QTest::newRow("huge loop")
        << QByteArray("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
        << QByteArray("steps of work") << 1;
    QTest::newRow("huge range") << QByteArray("{{ range(1000000) | length }}") << QByteArray("range too big")
                                << 1;
    QTest::newRow("huge string") << QByteArray("{{ 'abc' * 100000000 }}") << QByteArray("grew past") << 1;
    QTest::newRow("deep value")
        << QByteArray(
               "{% set ns = namespace(x=[]) %}{% for i in range(1000) %}{% set ns.x = [ns.x] %}{% endfor %}")
        << QByteArray("nested more than") << 1;
    QTest::newRow("namespace in itself") << QByteArray("{% set ns = namespace() %}{% set ns.me = [ns] %}")
                                         << QByteArray("storing a namespace") << 1;
  }
  void limits() { checkFailure(); }

  // ordered_json keeps the keys in document order, as Python's json does (tojson, printed dicts);
  // nlohmann::json hands them over sorted. Other contexts and sources are refused.
  void contexts() {
    const ChatTemplate t("{{ tools | tojson }} {{ tools }}");
    const auto text = R"({"tools": {"b": 1, "a": [true, null, 1.5]}})";
    QCOMPARE(t.render(nlohmann::ordered_json::parse(text)),
             std::string(R"({"b": 1, "a": [true, null, 1.5]} {'b': 1, 'a': [True, None, 1.5]})"));
    QCOMPARE(t.render(nlohmann::json::parse(text)),
             std::string(R"({"a": [true, null, 1.5], "b": 1} {'a': [True, None, 1.5], 'b': 1})"));
    QVERIFY(failureOf("x", nlohmann::ordered_json::array()).message.find("must be a JSON object") !=
            std::string::npos);
    QVERIFY(failureOf("{{ x }}", {{"x", std::string("\xff")}}).message.find("not valid UTF-8") !=
            std::string::npos);
    QVERIFY(failureOf("\xc3(").message.find("not valid UTF-8") != std::string::npos);
    QVERIFY(failureOf("{{ x }}", {{"x", 18446744073709551615u}}).message.find("64 bits") !=
            std::string::npos);
    QCOMPARE(t.source(), std::string("{{ tools | tojson }} {{ tools }}"));
  }
};

PREFLAB_TEST_MAIN(TestChatTemplate)

} // namespace preflab_tests
#include "tst_chat_template.moc"
