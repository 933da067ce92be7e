Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  a = spawn(&T.wait_forever/0)
  T.out("register", Process.register(a, :a))
  b = spawn(&T.wait_forever/0)
  try do Process.register(b, :a) rescue ArgumentError -> T.out("taken", :badarg) end
  try do Process.register(a, :other) rescue ArgumentError -> T.out("already_named", :badarg) end
  T.out("whereis", Process.whereis(:a) == a)
  T.out("name", T.info(a, :registered_name))
  T.out("unnamed", T.info(b, :registered_name))
  ref = Process.monitor(a)
  Process.exit(a, :kill)
  receive do {:DOWN, ^ref, _, _, _} -> :ok end
  T.out("whereis", Process.whereis(:a))
  try do Process.register(a, :c) rescue ArgumentError -> T.out("dead", :badarg) end
end)
T.done()
