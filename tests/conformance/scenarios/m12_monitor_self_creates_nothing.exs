Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  ref = Process.monitor(self())
  T.out("is_ref", is_reference(ref))
  T.out("monitors", T.info(self(), :monitors))
  T.out("monitored_by", T.info(self(), :monitored_by))
  T.out("demonitor", Process.demonitor(ref))
end)
T.done()
