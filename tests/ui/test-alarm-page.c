/* test-alarm-page.c — an event row of the Alarm page gives the value and
 * the limit once, with units: from the recorded description when there is
 * one, else from the event's numbers and the alarm's unit. */
#include "page-test-util.h"
#include "bms-alarm.h"
#include "bms-alarm-page.h"

static guint
count (const char *haystack,
       const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
test_described_event (void)
{
  g_autoptr(BmsAlarm) alarm = bms_alarm_new ("cell_over_voltage");
  g_autofree char *text = NULL;
  g_autofree char *subtitle = NULL;
  BmsHistoryAlarmEvent event = { 0, 1, 0, (char *) "cell_over_voltage", TRUE, 3700, 3650, NULL };

  /* The text the alarm monitor records, from the alarm itself. */
  bms_alarm_set_location (alarm, 3, 0);
  bms_alarm_set_value (alarm, TRUE, 3700);
  bms_alarm_set_threshold (alarm, TRUE, 3650);
  text = bms_alarm_describe (alarm);
  event.text = text;
  subtitle = bms_alarm_page_describe_event (&event, bms_alarm_get_name (alarm));

  g_assert_cmpuint (count (subtitle, "3700"), ==, 1);
  g_assert_cmpuint (count (subtitle, "3650"), ==, 1);
  g_assert_nonnull (strstr (subtitle, "3700 mV"));
  g_assert_nonnull (strstr (subtitle, "limit 3650 mV"));
  g_assert_nonnull (strstr (subtitle, "cell 3"));
  /* The name is the row's title; not again below it. */
  g_assert_null (strstr (subtitle, bms_alarm_get_name (alarm)));
}

static void
test_numbers_only (void)
{
  BmsHistoryAlarmEvent event = { 0, 1, 0, (char *) "cell_over_voltage", FALSE, 3700, 3650, NULL };
  g_autofree char *subtitle = bms_alarm_page_describe_event (&event, "Cell over-voltage");

  g_assert_nonnull (strstr (subtitle, " · cleared · 3700 mV, limit 3650 mV"));
  g_assert_null (strstr (subtitle, "value"));
}

static void
test_reason_kept (void)
{
  BmsHistoryAlarmEvent event = { 0, 1, 0, (char *) BMS_ALARM_CODE_IMPLAUSIBLE, TRUE, NAN, NAN,
                                 (char *) "cell 5 reads 9999 mV" };
  g_autofree char *subtitle = bms_alarm_page_describe_event (&event, "Implausible reply");

  g_assert_true (g_str_has_suffix (subtitle, " · raised · cell 5 reads 9999 mV"));
}

int
main (int argc, char **argv)
{
  page_test_init (&argc, &argv);
  g_test_add_func ("/alarm-page/described-event", test_described_event);
  g_test_add_func ("/alarm-page/numbers-only", test_numbers_only);
  g_test_add_func ("/alarm-page/reason-kept", test_reason_kept);
  return g_test_run ();
}
